import { z } from 'zod';

/** Limits of one conversation. Every field is finite; the network's values apply where one is absent. */
export const ConversationLimits = z.object({
  /** Most agent turns (hops) the conversation may take. */
  maxHops: z.number().int().min(1).max(10_000).optional(),
});
/** Limits of one conversation. */
export type ConversationLimits = z.infer<typeof ConversationLimits>;
