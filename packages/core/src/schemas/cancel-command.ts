import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { OperationId } from '../ids.js';

/** What a client sends to cancel a conversation. */
export const CancelCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('cancel'),
  conversationId: z.string().min(1),
  reason: z.string().max(1_000).optional(),
  /**
   * Unique per call (see `newOperationId`); redeliveries of the job keep it. The coordinator records it with the
   * step it applies, so a command is applied once however often it arrives, and its caller is told the outcome.
   */
  operationId: OperationId.optional(),
  createdAt: z.number().int(),
});
/** What a client sends to cancel a conversation. */
export type CancelCommand = z.infer<typeof CancelCommand>;
