import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { OperationId } from '../ids.js';

/** What a client sends when a person approves or rejects tool calls a conversation waits on. */
export const ApprovalCommand = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('approval'),
  conversationId: z.string().min(1),
  decisions: z
    .array(z.object({ toolCallId: z.string().min(1), approved: z.boolean(), reason: z.string().max(2_000).optional() }))
    .min(1),
  /**
   * Unique per call (see `newOperationId`); redeliveries of the job keep it. The coordinator records it with the
   * step it applies, so a command is applied once however often it arrives, and its caller is told the outcome.
   */
  operationId: OperationId.optional(),
  createdAt: z.number().int(),
});
/** What a client sends when a person approves or rejects tool calls. */
export type ApprovalCommand = z.infer<typeof ApprovalCommand>;
