import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';

/** What a client sends to cancel a conversation. */
export const CancelCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('cancel'),
  conversationId: z.string().min(1),
  reason: z.string().max(1_000).optional(),
  createdAt: z.number().int(),
});
/** What a client sends to cancel a conversation. */
export type CancelCommand = z.infer<typeof CancelCommand>;
