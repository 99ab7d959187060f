import { z } from 'zod';
import { DEFAULT_MAX_HOPS, DEFAULT_MAX_PING_PONG } from '../constants.js';

/** Limits of one conversation. Every field is finite; the network's values apply where one is absent. */
export const ConversationLimits = z.object({
  /** Most agent turns (hops) per run (a user message starts a new run). */
  maxHops: z.number().int().min(1).max(10_000).optional().meta({ description: "Most agent turns (hops) per run (a user message starts a new run). The network's `maxHops` applies where absent.", default: DEFAULT_MAX_HOPS }),
  /** Most turns any one agent may take in the conversation. */
  maxVisitsPerAgent: z.number().int().min(1).max(10_000).optional().describe('Most turns any one agent may take in the conversation.'),
  /** Most consecutive handoffs back and forth between the same two agents. */
  maxPingPong: z.number().int().min(2).max(10_000).optional().meta({ description: 'Most consecutive handoffs back and forth between the same two agents.', default: DEFAULT_MAX_PING_PONG }),
  /** Wall-clock time the conversation may run, in ms from its start. */
  deadlineMs: z.number().int().min(1).max(30 * 24 * 3_600_000).optional().describe('Wall-clock time the conversation may run, in ms from its start.'),
  /** Most tokens (prompt + completion, all agents) the conversation may use. */
  maxTokens: z.number().int().min(1).optional().describe('Most tokens (prompt + completion, all agents) the conversation may use.'),
});
/** Limits of one conversation. */
export type ConversationLimits = z.infer<typeof ConversationLimits>;
