import { z } from 'zod';
import { ApprovalResume } from './approval-resume.js';
import { ErrorJson } from '../errors/index.js';
import { ContextVariables } from './json.js';
import { TokenUsage } from './usage.js';

/**
 * Where a conversation is in its life. `awaiting_user` and `awaiting_child` are parked: no job
 * and no process holds them; a user message or the child conversation's end moves them on.
 */
export const ConversationStatus = z.enum(['running', 'awaiting_user', 'awaiting_child', 'completed', 'failed', 'cancelled']);
/** Where a conversation is in its life. */
export type ConversationStatus = z.infer<typeof ConversationStatus>;

/** The terminal statuses. */
export const TERMINAL_STATUSES: ReadonlySet<ConversationStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Why a conversation ended. */
export const TerminalReason = z.enum([
  /** An agent produced a final answer. */
  'final_output',
  /** The hop limit stopped it. */
  'max_hops_exceeded',
  /** A turn failed (model down, invalid input, unknown target…); `error` says which. */
  'error',
  /** Not ended: the conversation waits for the user's next message (see `waiting`). */
  'awaiting_user',
  /** The same two agents kept handing back and forth. */
  'ping_pong_detected',
  /** One agent was visited too often. */
  'max_visits_exceeded',
  /** The wall-clock deadline passed. */
  'deadline_exceeded',
  /** The token budget ran out. */
  'token_budget_exceeded',
  /** Every agent of a fallback list failed. */
  'all_fallbacks_failed',
  /** A client cancelled it. */
  'cancelled',
]);
/** Why a conversation ended. */
export type TerminalReason = z.infer<typeof TerminalReason>;

/** A group chat's members and the pattern that decides what follows a turn without a handoff. */
export const GroupSettings = z.object({
  members: z.array(z.string()).min(1),
  pattern: z.enum(['default', 'auto', 'round_robin', 'random', 'manual']),
});
/** A group chat's settings. */
export type GroupSettings = z.infer<typeof GroupSettings>;

/** What the conversation waits for, while it is parked. */
export const Waiting = z.discriminatedUnion('kind', [
  /** The user's next message. `mode` revert: the asking agent continues; ask: the user may also pick who continues. */
  z.object({
    kind: z.literal('user'),
    mode: z.enum(['revert', 'ask']),
    agent: z.string(),
    question: z.string().optional(),
    choices: z.array(z.string()).optional(),
  }),
  /** A person's approval of tool calls the agent made (status awaiting_user). */
  z.object({
    kind: z.literal('approval'),
    agent: z.string(),
    calls: z.array(z.object({ toolCallId: z.string(), name: z.string(), arguments: z.string() })),
    /** Decisions so far, by tool call id; the agent resumes when every call has one. */
    decisions: z.record(z.string(), z.object({ approved: z.boolean(), reason: z.string().optional() })),
  }),
  /** A nested or group chat running as a child conversation. */
  z.object({
    kind: z.literal('child'),
    childId: z.string(),
    /** The agent that continues with the child's summary. */
    caller: z.string(),
    /** How the child starts: its entry agent, opening message (default: carried over), hop limit, group. */
    entry: z.string(),
    message: z.string().optional(),
    maxHops: z.number().int().optional(),
    group: GroupSettings.nullable(),
    /** The text carried into the child when it has no message of its own (set when it starts). */
    carry: z.string().optional(),
    /** Nested chats still to run after this one, in order. */
    remaining: z.array(z.object({ agent: z.string(), message: z.string().optional(), maxHops: z.number().int().optional() })),
    /** How many child conversations this wait has started (names the next one). */
    index: z.number().int().min(0),
    /** Set while the child waits for its own user: where (the child's id), who asks and what. Answer the child. */
    childAwaitingUser: z.object({ conversationId: z.string(), agent: z.string().nullable(), question: z.string().optional() }).optional(),
  }),
]);
/** What the conversation waits for. */
export type Waiting = z.infer<typeof Waiting>;

/** What a conversation returns to its client when it ends — or stops to wait for the user. */
export const ConversationResult = z.object({
  conversationId: z.string(),
  status: z.enum(['completed', 'failed', 'cancelled', 'awaiting_user']),
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
  /** While awaiting the user: who asked and what. */
  waiting: Waiting.optional(),
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
  /** Approvals the agent resumes with. */
  resume: ApprovalResume.optional(),
  /** W3C traceparent the hop's span is a child of (the handoff that led here, or the conversation). */
  traceparent: z.string().optional(),
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
  /** W3C traceparent of the conversation's span, when tracing is on: every hop's span is in its trace. */
  traceparent: z.string().optional(),
  /**
   * The conversation's incarnation: random, created with the record. Job ids and worker caches
   * carry it, so a reused conversation id never meets an old conversation's jobs or history.
   * Empty for records written before it existed.
   */
  epoch: z.string().default(''),
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
  /** The hop to publish after the last applied step; null once the conversation ended or while it waits. */
  next: PendingHop.nullable(),
  /** What a parked conversation waits for. */
  waiting: Waiting.nullable(),
  /**
   * What an end from outside (cancel, failure, deadline) cut short, so its effects can be done
   * again after a crash: the hop that was pending (its job is removed, a running turn aborted) and
   * the child conversation that was running (it ends too).
   */
  interrupted: z.object({ agent: z.string().nullable(), hopId: z.string().nullable(), childId: z.string().nullable() }).nullable().default(null),
  /** The conversation (and agent) this one reports back to, when it is a nested or group chat. */
  parent: z.object({ conversationId: z.string(), caller: z.string() }).nullable(),
  /** 0 for a top-level conversation, +1 per nesting. */
  depth: z.number().int().min(0),
  /** The sequence the current run started at (a user message starts a run; the hop limit is per run). */
  runStartSeq: z.number().int().min(0),
  /** For a group chat: its members and pattern (who may be targeted, and what after-work applies). */
  group: GroupSettings.nullable(),
  /** The conversation's loop and budget limits beyond maxHops (resolved at start). */
  limits: z.object({
    maxVisitsPerAgent: z.number().int().nullable(),
    maxPingPong: z.number().int().nullable(),
    deadlineAt: z.number().nullable(),
    maxTokens: z.number().int().nullable(),
  }),
  /** Failed attempts at the current step, while its fallbacks are tried (empty once a turn succeeds). */
  failures: z.array(z.object({ agent: z.string(), error: ErrorJson })),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
/** The conversation record. */
export type ConversationRecord = z.infer<typeof ConversationRecord>;

/** The result a terminal record represents, or null while the conversation runs. */
export function resultOfRecord(record: ConversationRecord): ConversationResult | null {
  if (record.status === 'awaiting_user' && (record.waiting?.kind === 'user' || record.waiting?.kind === 'approval')) {
    return {
      conversationId: record.conversationId,
      status: 'awaiting_user',
      reason: 'awaiting_user',
      output: record.output,
      agent: record.currentAgent,
      path: record.path,
      context: record.context,
      usage: record.usage,
      waiting: record.waiting,
    };
  }
  if ((record.status !== 'completed' && record.status !== 'failed' && record.status !== 'cancelled') || record.terminalReason === null) return null;
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

/** What clients are shown of a conversation (the record without the coordinator's internals). */
export const ConversationView = ConversationRecord.pick({
  conversationId: true,
  network: true,
  status: true,
  entryAgent: true,
  currentAgent: true,
  path: true,
  context: true,
  output: true,
  terminalReason: true,
  error: true,
  waiting: true,
  usage: true,
  parent: true,
  createdAt: true,
  updatedAt: true,
  epoch: true,
});
/** What clients are shown of a conversation. */
export type ConversationView = z.infer<typeof ConversationView>;

/** The client view of a record. */
export function viewOfRecord(record: ConversationRecord): ConversationView {
  const { conversationId, network, status, entryAgent, currentAgent, path, context, output, terminalReason, error, waiting, usage, parent, createdAt, updatedAt, epoch } = record;
  return { conversationId, network, status, entryAgent, currentAgent, path, context, output, terminalReason, error, waiting, usage, parent, createdAt, updatedAt, epoch };
}
