import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { ConversationResult } from './conversation.js';

/** What the coordinator sends itself when a nested or group chat ends, for the parent to continue. */
export const ChildDoneCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('child_done'),
  conversationId: z.string().min(1),
  childId: z.string().min(1),
  result: ConversationResult,
  createdAt: z.number().int(),
});
/** What the coordinator sends itself when a nested or group chat ends. */
export type ChildDoneCommand = z.infer<typeof ChildDoneCommand>;
