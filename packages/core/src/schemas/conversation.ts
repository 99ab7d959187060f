import { z } from 'zod';
import { ErrorJson } from '../errors/index.js';
import { ContextVariables } from './json.js';
import { TokenUsage } from './usage.js';

/** Where a conversation is in its life. */
export const ConversationStatus = z.enum(['running', 'completed', 'failed']);
/** Where a conversation is in its life. */
export type ConversationStatus = z.infer<typeof ConversationStatus>;

/** The terminal statuses. */
export const TERMINAL_STATUSES: ReadonlySet<ConversationStatus> = new Set(['completed', 'failed']);

/** Why a conversation ended. */
export const TerminalReason = z.enum([
  /** An agent produced a final answer. */
  'final_output',
  /** The hop limit stopped it. */
  'max_hops_exceeded',
  /** A turn failed (model down, invalid input, unknown target…); `error` says which. */
  'error',
]);
/** Why a conversation ended. */
export type TerminalReason = z.infer<typeof TerminalReason>;

/** What a finished conversation returns to its client. */
export const ConversationResult = z.object({
  conversationId: z.string(),
  status: z.enum(['completed', 'failed']),
  reason: TerminalReason,
  /** The final answer, when there is one. */
  output: z.string().nullable(),
  /** The agent that produced the answer (or that was running when the conversation ended). */
  agent: z.string().nullable(),
  /** Agents visited, in order. */
  path: z.array(z.string()),
  context: ContextVariables,
  usage: TokenUsage,
  error: ErrorJson.optional(),
});
/** What a finished conversation returns to its client. */
export type ConversationResult = z.infer<typeof ConversationResult>;

/** The next hop the coordinator decided on and has yet to (or just did) publish. */
export const PendingHop = z.object({
  seq: z.number().int().min(1),
  hopId: z.string(),
  agent: z.string(),
  previousAgent: z.string().nullable(),
  parentHopId: z.string().nullable(),
  reason: z.string(),
  args: z.record(z.string(), z.unknown()).optional(),
});
/** The next hop the coordinator decided on. */
export type PendingHop = z.infer<typeof PendingHop>;

/** The conversation record: the coordinator's state of one conversation, kept in Redis. */
export const ConversationRecord = z.object({
  conversationId: z.string(),
  network: z.string(),
  status: ConversationStatus,
  entryAgent: z.string(),
  /** The agent whose turn is pending or ran last. */
  currentAgent: z.string().nullable(),
  /** Sequence of the last applied turn (0 once started, before any turn). */
  appliedSeq: z.number().int().min(0),
  /** Incremented by every write of the record; writers compare it to detect concurrent changes. */
  version: z.number().int().min(0),
  /** Messages in the history list once the last applied step is in. */
  historyLength: z.number().int().min(0),
  path: z.array(z.string()),
  context: ContextVariables,
  maxHops: z.number().int().min(1),
  usage: TokenUsage,
  output: z.string().nullable(),
  terminalReason: TerminalReason.nullable(),
  error: ErrorJson.nullable(),
  /** The hop to publish after the last applied step; null once the conversation ended. */
  next: PendingHop.nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
/** The conversation record. */
export type ConversationRecord = z.infer<typeof ConversationRecord>;

/** The result a terminal record represents, or null while the conversation runs. */
export function resultOfRecord(record: ConversationRecord): ConversationResult | null {
  if (record.status === 'running' || record.terminalReason === null) return null;
  return {
    conversationId: record.conversationId,
    status: record.status,
    reason: record.terminalReason,
    output: record.output,
    agent: record.currentAgent,
    path: record.path,
    context: record.context,
    usage: record.usage,
    ...(record.error === null ? {} : { error: record.error }),
  };
}
