import { z } from 'zod';
import { ErrorJson } from '../errors/index.js';

/**
 * The coordinator's answer to one command, written where the command's caller waits for it: the
 * command was applied (now, or by an earlier delivery of the same operation), or refused with
 * the error that says why. A caller is told "accepted" only on `applied`.
 */
export const CommandReply = z.object({
  operationId: z.string(),
  outcome: z.enum(['applied', 'refused']),
  /** The record version after the step, when it applied. */
  version: z.number().int().nullable(),
  error: ErrorJson.optional(),
});
/** The coordinator's answer to one command. */
export type CommandReply = z.infer<typeof CommandReply>;
