import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { OperationId } from '../ids.js';
import { Message } from './message.js';

/** What a client sends when the user writes to a conversation (after revert-to-user, ask-user, or an answer). */
export const UserMessageCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('user_message'),
  conversationId: z.string().min(1),
  message: z.union([z.string().min(1), Message]),
  /** The agent the user picks to continue (ask-user choices), if any. */
  agent: z.string().min(1).optional(),
  /** The record version the client saw; the message applies only to that state (double sends apply once). */
  expectedVersion: z.number().int().min(0),
  /**
   * Unique per call (see `newOperationId`); redeliveries of the job keep it. The coordinator records it with the
   * step it applies, so a command is applied once however often it arrives, and its caller is told the outcome.
   */
  operationId: OperationId.optional(),
  createdAt: z.number().int(),
});
/** What a client sends when the user writes to a conversation. */
export type UserMessageCommand = z.infer<typeof UserMessageCommand>;
