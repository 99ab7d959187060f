import { z } from 'zod';
import { ApprovalResume } from './approval-resume.js';
import { SCHEMA_VERSION } from '../constants.js';
import { ConversationId } from '../ids.js';
import { hopId } from '../naming.js';
import { ContextVariables, JsonValue } from './json.js';
import { TokenUsage } from './usage.js';

/** Budgets a conversation runs under, resolved once when it starts. */
export const Budget = z.object({
  maxHops: z.number().int().min(1),
});
/** Budgets a conversation runs under. */
export type Budget = z.infer<typeof Budget>;

/**
 * Envelope v1: the one document that travels from the coordinator to an agent's queue. It holds
 * everything a worker needs for one turn, so workers keep no conversation state between jobs.
 */
export const Envelope = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  conversationId: ConversationId,
  /** Deterministic id of this hop (conversation id + sequence, see `hopId()`); also the BullMQ job id. */
  hopId: z.string().min(1),
  /** The hop whose turn led here; null for the first hop. */
  parentHopId: z.string().nullable(),
  /** 1 for the first agent turn, then +1 per hop. */
  seq: z.number().int().min(1),
  /** The agent that runs this turn. */
  agent: z.string().min(1),
  /** The agent that handed off to this one; null on the first hop. */
  previousAgent: z.string().nullable(),
  /** Why control came here (the model's reason for a handoff, or "entry"). */
  reason: z.string(),
  /** Typed arguments the previous agent passed with the handoff. */
  handoffArgs: z.record(z.string(), JsonValue).optional(),
  /**
   * How many messages of the conversation's history this hop sees. The history itself stays in
   * Redis (an append-only list), so the envelope's size does not grow with the conversation; the
   * worker reads the first `historyLength` entries — only the ones it has not cached yet.
   */
  historyLength: z.number().int().min(0),
  /** Context variables as of the start of this turn. */
  context: ContextVariables,
  /** Agents visited, in order, ending with this one. */
  path: z.array(z.string()),
  budget: Budget,
  /** Usage so far, across all previous hops. */
  usage: TokenUsage,
  /** Callers to return to after nested chats (reserved; empty in v1 flows without nesting). */
  returnStack: z.array(z.object({ agent: z.string(), hopId: z.string() })),
  /** When this conversation is a group chat: its members and pattern (after-work and targets follow them). */
  group: z.object({ members: z.array(z.string()), pattern: z.enum(['default', 'auto', 'round_robin', 'random', 'manual']) }).optional(),
  /** Set when the turn resumes after approvals: the decision for each pending tool call of the last assistant message. */
  resume: ApprovalResume.optional(),
  /** W3C traceparent of the conversation's trace, when tracing is on. */
  traceparent: z.string().optional(),
  /** When the coordinator published this hop (high-resolution Unix ms, see hrNow). */
  createdAt: z.number(),
  /**
   * The conversation's incarnation (see `ConversationRecord.epoch`): a worker runs the hop only
   * while the record carries the same one, and caches history under it.
   */
  epoch: z.string().max(40).optional(),
}).refine((e) => e.hopId === hopId(e.conversationId, e.seq), { message: 'must be "<conversationId>.h<seq>"', path: ['hopId'] });
/** Envelope v1. */
export type Envelope = z.infer<typeof Envelope>;
