import { z } from 'zod';

/** Limits of one conversation. Every field is finite; the network's values apply where one is absent. */
export const ConversationLimits = z.object({
  /** Most agent turns (hops) per run (a user message starts a new run). */
  maxHops: z.number().int().min(1).max(10_000).optional(),
  /** Most turns any one agent may take in the conversation. */
  maxVisitsPerAgent: z.number().int().min(1).max(10_000).optional(),
  /** Most consecutive handoffs back and forth between the same two agents. */
  maxPingPong: z.number().int().min(2).max(10_000).optional(),
  /** Wall-clock time the conversation may run, in ms from its start. */
  deadlineMs: z.number().int().min(1).max(30 * 24 * 3_600_000).optional(),
  /** Most tokens (prompt + completion, all agents) the conversation may use. */
  maxTokens: z.number().int().min(1).optional(),
});
/** Limits of one conversation. */
export type ConversationLimits = z.infer<typeof ConversationLimits>;
