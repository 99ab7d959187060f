import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { ConversationId, OperationId } from '../ids.js';
import { ContextVariables } from './json.js';
import { ConversationLimits } from './limits.js';
import { Message } from './message.js';

/** What a client sends to start a conversation: its starting mark, and the entry on its coordinator partition's inbox. */
export const StartCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('start'),
  /** Becomes the BullMQ job ids of the conversation's start and hops (see {@link ConversationId}). */
  conversationId: ConversationId,
  entryAgent: z.string().min(1),
  /** The user's input: one text, or a list of prior messages (the last usually from the user). */
  input: z.union([z.string(), z.array(Message).min(1)]),
  context: ContextVariables,
  limits: ConversationLimits,
  traceparent: z.string().optional(),
  /**
   * Unique per call (see `newOperationId`); redeliveries of the job keep it. The coordinator records it with the
   * step it applies, so a command is applied once however often it arrives, and its caller is told the outcome.
   */
  operationId: OperationId.optional(),
  createdAt: z.number().int(),
});
/** What a client sends to start a conversation. */
export type StartCommand = z.infer<typeof StartCommand>;
