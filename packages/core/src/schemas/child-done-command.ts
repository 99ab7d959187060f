import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { OperationId } from '../ids.js';
import { ConversationResult } from './conversation.js';

/** What the coordinator sends itself when a nested or group chat ends, for the parent to continue. */
export const ChildDoneCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('child_done'),
  conversationId: z.string().min(1),
  childId: z.string().min(1),
  result: ConversationResult,
  /**
   * Unique per call (see `newOperationId`); redeliveries of the job keep it. The coordinator records it with the
   * step it applies, so a command is applied once however often it arrives, and its caller is told the outcome.
   */
  operationId: OperationId.optional(),
  createdAt: z.number().int(),
});
/** What the coordinator sends itself when a nested or group chat ends. */
export type ChildDoneCommand = z.infer<typeof ChildDoneCommand>;
