import { z } from 'zod';
import { ErrorJson } from '../errors/index.js';
import { ContextVariables } from './json.js';
import { Target } from '../definitions/targets.js';
import { ConversationResult, Waiting } from './conversation.js';
import { HandoffSource } from './turn-result.js';
import { TurnTiming } from './turn-timing.js';

const base = { conversationId: z.string(), ts: z.number().int() };

/** The conversation was accepted by the coordinator. */
export const ConversationStartedEvent = z.object({
  ...base,
  type: z.literal('conversation.started'),
  entryAgent: z.string(),
  context: ContextVariables,
  /** The text of the user's opening message (the last user message of the input), when it has one. */
  input: z.string().optional(),
});
/** A worker began a turn of an agent (one per attempt: a retried turn starts again). */
export const AgentStartedEvent = z.object({
  ...base,
  type: z.literal('agent.started'),
  agent: z.string(),
  hopId: z.string(),
  seq: z.number().int(),
  attempt: z.number().int(),
});
/** Streamed model text, batched. */
export const TextDeltaEvent = z.object({
  ...base,
  type: z.literal('text.delta'),
  agent: z.string(),
  hopId: z.string(),
  text: z.string(),
});
/** The model called a tool (including a transfer tool). */
export const ToolCalledEvent = z.object({
  ...base,
  type: z.literal('tool.called'),
  agent: z.string(),
  hopId: z.string(),
  toolCallId: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** A tool call's result went back to the model. */
export const ToolResultEvent = z.object({
  ...base,
  type: z.literal('tool.result'),
  agent: z.string(),
  /** The hop that ran the tool. */
  hopId: z.string(),
  /**
   * The hop whose `tool.called` made this call, when it is another one: a call approved (or
   * rejected) after its turn parked is answered by the next hop of the same agent.
   */
  callHopId: z.string().optional(),
  toolCallId: z.string(),
  name: z.string(),
  result: z.string(),
  isError: z.boolean(),
});
/** An agent's turn was applied to the conversation (exactly once per hop). */
export const AgentCompletedEvent = z.object({
  ...base,
  type: z.literal('agent.completed'),
  agent: z.string(),
  hopId: z.string(),
  seq: z.number().int(),
  outcome: z.enum(['handoff', 'final', 'failed', 'approval']),
  /** Queue wait, model time and the rest, for this hop. */
  timing: TurnTiming.optional(),
});
/** Control moved from one agent to another (or to the same one, for stay). */
export const HandoffEvent = z.object({
  ...base,
  type: z.literal('handoff'),
  from: z.string(),
  to: z.string(),
  reason: z.string(),
  /** Which kind of rule chose it. */
  source: HandoffSource.optional(),
  /** The target as the rule named it, when it was not simply an agent (random, user, …). */
  target: Target.optional(),
  /** The hop that the receiving agent runs. */
  hopId: z.string(),
  seq: z.number().int(),
});
/** The conversation is parked until the user writes (revert-to-user or ask-user). */
export const AwaitingUserEvent = z.object({
  ...base,
  type: z.literal('awaiting.user'),
  waiting: Waiting,
});
/** The user wrote; the conversation continues. */
export const UserMessageEvent = z.object({
  ...base,
  type: z.literal('user.message'),
  text: z.string(),
  /** The agent that continues. */
  agent: z.string(),
});
/** A nested chat or group chat started as a child conversation. */
export const NestedStartedEvent = z.object({
  ...base,
  type: z.literal('nested.started'),
  childConversationId: z.string(),
  entry: z.string(),
  caller: z.string(),
});
/** A child conversation ended; its summary went back to the caller. */
export const NestedCompletedEvent = z.object({
  ...base,
  type: z.literal('nested.completed'),
  childConversationId: z.string(),
  status: z.string(),
  summary: z.string(),
});
/** A child conversation stopped to wait for its own user: the parent waits on it, and the user answers the child. */
export const NestedAwaitingUserEvent = z.object({
  ...base,
  type: z.literal('nested.awaiting_user'),
  childConversationId: z.string(),
  agent: z.string().nullable(),
  question: z.string().optional(),
});
/** A turn changed context variables. */
export const ContextUpdatedEvent = z.object({
  ...base,
  type: z.literal('context.updated'),
  agent: z.string(),
  patch: ContextVariables,
});
/** A tool call waits for a person's approval. */
export const ApprovalRequestedEvent = z.object({
  ...base,
  type: z.literal('approval.requested'),
  agent: z.string(),
  toolCallId: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** A person approved or rejected a tool call. */
export const ApprovalDecidedEvent = z.object({
  ...base,
  type: z.literal('approval.decided'),
  toolCallId: z.string(),
  approved: z.boolean(),
  reason: z.string().optional(),
});
/** A router picked an agent (pool strategy, capability, health). */
export const RoutingDecidedEvent = z.object({
  ...base,
  type: z.literal('routing.decided'),
  router: z.string(),
  strategy: z.string(),
  agent: z.string(),
  reason: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
/** A failed step goes to the next agent of a fallback list. */
export const FallbackEvent = z.object({
  ...base,
  type: z.literal('fallback'),
  from: z.string(),
  to: z.string(),
  error: ErrorJson,
  /** 1 for the first fallback of this step. */
  attempt: z.number().int(),
});
/** Something the operator should know that does not stop the conversation (e.g. no live worker). */
export const WarningEvent = z.object({
  ...base,
  type: z.literal('warning'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
/** The conversation was cancelled. */
export const ConversationCancelledEvent = z.object({
  ...base,
  type: z.literal('conversation.cancelled'),
  result: ConversationResult,
});
/** Something went wrong; a terminal event follows if the conversation cannot continue. */
export const ErrorEvent = z.object({
  ...base,
  type: z.literal('error'),
  error: ErrorJson,
  agent: z.string().optional(),
  hopId: z.string().optional(),
});
/** The conversation finished with an answer. */
export const ConversationCompletedEvent = z.object({
  ...base,
  type: z.literal('conversation.completed'),
  result: ConversationResult,
});
/** The conversation ended without an answer (limit, error). */
export const ConversationFailedEvent = z.object({
  ...base,
  type: z.literal('conversation.failed'),
  result: ConversationResult,
});

/** Every event of a conversation's event log. */
export const RuntimeEvent = z.discriminatedUnion('type', [
  ConversationStartedEvent,
  AgentStartedEvent,
  TextDeltaEvent,
  ToolCalledEvent,
  ToolResultEvent,
  AgentCompletedEvent,
  HandoffEvent,
  AwaitingUserEvent,
  UserMessageEvent,
  NestedStartedEvent,
  NestedCompletedEvent,
  NestedAwaitingUserEvent,
  ContextUpdatedEvent,
  RoutingDecidedEvent,
  ApprovalRequestedEvent,
  ApprovalDecidedEvent,
  FallbackEvent,
  WarningEvent,
  ErrorEvent,
  ConversationCompletedEvent,
  ConversationFailedEvent,
  ConversationCancelledEvent,
]);
/** Every event of a conversation's event log. */
export type RuntimeEvent = z.infer<typeof RuntimeEvent>;
/** The `type` of a {@link RuntimeEvent}. */
export type RuntimeEventType = RuntimeEvent['type'];
/** The event of one type. */
export type RuntimeEventOf<T extends RuntimeEventType> = Extract<RuntimeEvent, { type: T }>;
/** An event as stored: the event plus its id in the conversation's log (a Redis stream id). */
export type StoredEvent = RuntimeEvent & { id: string };
/** An event before the log stamps it: everything but the common fields. */
export type NewEvent = RuntimeEvent extends infer E ? (E extends RuntimeEvent ? Omit<E, 'conversationId' | 'ts'> : never) : never;

/** Event types that end a conversation. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<RuntimeEventType> = new Set([
  'conversation.completed',
  'conversation.failed',
  'conversation.cancelled',
]);
