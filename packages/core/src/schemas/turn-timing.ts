import { z } from 'zod';

/**
 * Where the time of one hop went, in high-resolution wall-clock ms ({@link hrNow}): queue wait is
 * `startedAt - queuedAt`, model time `modelMs`, and the rest is the runtime's own work.
 */
export const TurnTiming = z.object({
  /** When the coordinator published the hop. */
  queuedAt: z.number(),
  /** When a worker began the turn. */
  startedAt: z.number(),
  /** When the turn's first model call began (null: no model call). */
  firstModelCallAt: z.number().nullable(),
  /** When the turn's last model call returned. */
  lastModelReturnAt: z.number().nullable(),
  /** Total time inside model calls. */
  modelMs: z.number().nonnegative(),
  /** When the turn result was ready. */
  finishedAt: z.number(),
});
/** Where the time of one hop went. */
export type TurnTiming = z.infer<typeof TurnTiming>;
