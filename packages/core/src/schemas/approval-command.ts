import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';

/** What a client sends when a person approves or rejects tool calls a conversation waits on. */
export const ApprovalCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('approval'),
  conversationId: z.string().min(1),
  decisions: z
    .array(z.object({ toolCallId: z.string().min(1), approved: z.boolean(), reason: z.string().max(2_000).optional() }))
    .min(1),
  createdAt: z.number().int(),
});
/** What a client sends when a person approves or rejects tool calls. */
export type ApprovalCommand = z.infer<typeof ApprovalCommand>;
