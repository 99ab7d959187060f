import { z } from 'zod';
import { ErrorJson } from '../errors/index.js';
import { ContextVariables } from './json.js';
import { Target } from '../definitions/targets.js';
import { ConversationResult, Waiting } from './conversation.js';
import { HandoffSource } from './turn-result.js';
import { TurnTiming } from './turn-timing.js';

const base = { conversationId: z.string(), ts: z.number().int() };

/** The conversation was accepted by the coordinator. */
export const ConversationStartedEvent = z
  .object({
    ...base,
    type: z.literal('conversation.started'),
    entryAgent: z.string().describe('The agent the conversation starts with (after routing).'),
    context: ContextVariables.describe('The context variables it starts with.'),
    /** The text of the user's opening message (the last user message of the input), when it has one. */
    input: z.string().optional().describe('The text of the user\'s opening message (the last user message of the input), when it has one.'),
  })
  .describe('The conversation was accepted by the coordinator.');
/** A worker began a turn of an agent (one per attempt: a retried turn starts again). */
export const AgentStartedEvent = z
  .object({
    ...base,
    type: z.literal('agent.started'),
    agent: z.string().describe('The agent of the hop.'),
    hopId: z.string().describe('The hop (one turn of one agent): `<conversationId>.h<seq>`.'),
    seq: z.number().int().describe('The hop\'s number in the conversation: 1, 2, …'),
    attempt: z.number().int().describe('Which run of the hop this is: a hop run again after a crash starts again with the next attempt.'),
    workerId: z.string().optional().describe('The worker process that runs the turn (its id in its logs, its turn results and its hop leases).'),
    resumed: z
      .object({
        round: z.number().int().describe('The model round (1, 2, …) in which the run goes on live: what comes before it is replayed from the journal.'),
        modelCalls: z.number().int().describe('Model responses replayed from the journal (not called again, their text not streamed again).'),
        toolResults: z.number().int().describe('Tool results replayed from the journal (the tools not run again).'),
      })
      .optional()
      .describe("Set when an earlier run of this hop journaled steps that this run replays (see the turn journal)."),
  })
  .describe('A worker began a turn of an agent (one per attempt: a retried turn starts again).');
/** Streamed model text, batched. */
export const TextDeltaEvent = z
  .object({
    ...base,
    type: z.literal('text.delta'),
    agent: z.string().describe('The agent of the hop.'),
    hopId: z.string().describe('The hop (one turn of one agent): `<conversationId>.h<seq>`.'),
    text: z.string().describe('The text streamed since the previous delta.'),
  })
  .describe('Streamed model text, batched.');
/** The model called a tool (including a transfer tool). */
export const ToolCalledEvent = z
  .object({
    ...base,
    type: z.literal('tool.called'),
    agent: z.string().describe('The agent of the hop.'),
    hopId: z.string().describe('The hop (one turn of one agent): `<conversationId>.h<seq>`.'),
    toolCallId: z.string().describe('The id the model gave the tool call.'),
    name: z.string().describe('The tool.'),
    arguments: z.string().describe('The arguments the model gave, as JSON text.'),
  })
  .describe('The model called a tool (including a transfer tool).');
/** A tool call's result went back to the model. */
export const ToolResultEvent = z
  .object({
    ...base,
    type: z.literal('tool.result'),
    agent: z.string().describe('The agent of the hop.'),
    /** The hop that ran the tool. */
    hopId: z.string().describe('The hop that ran the tool.'),
    /**
     * The hop whose `tool.called` made this call, when it is another one: a call approved (or
     * rejected) after its turn parked is answered by the next hop of the same agent.
     */
    callHopId: z.string().optional().describe('The hop whose tool.called made this call, when another one ran it (a call approved after its turn parked).'),
    toolCallId: z.string().describe('The id the model gave the tool call.'),
    name: z.string().describe('The tool.'),
    result: z.string().describe('What went back to the model.'),
    isError: z.boolean().describe('True when the tool failed, timed out, was rejected or got invalid arguments.'),
  })
  .describe('A tool call\'s result went back to the model.');
/** An agent's turn was applied to the conversation (exactly once per hop). */
export const AgentCompletedEvent = z
  .object({
    ...base,
    type: z.literal('agent.completed'),
    agent: z.string().describe('The agent of the hop.'),
    hopId: z.string().describe('The hop (one turn of one agent): `<conversationId>.h<seq>`.'),
    seq: z.number().int().describe('The hop\'s number in the conversation: 1, 2, …'),
    outcome: z.enum(['handoff', 'final', 'failed', 'approval']).describe('How the turn ended: a handoff, a final answer, a failure, or waiting for approval.'),
    messages: z.object({ from: z.number().int().min(0), count: z.number().int().min(0) }).optional().describe('The history entries the turn appended: `count` from index `from` (what attributes them to the agent in a transcript).'),
    /** Queue wait, model time and the rest, for this hop. */
    timing: TurnTiming.optional().describe('Queue wait, model time and the rest, for this hop.'),
  })
  .describe('An agent\'s turn was applied to the conversation (exactly once per hop).');
/** Control moved from one agent to another (or to the same one, for stay). */
export const HandoffEvent = z
  .object({
    ...base,
    type: z.literal('handoff'),
    from: z.string().describe('The agent control leaves.'),
    to: z.string().describe('The agent control goes to.'),
    reason: z.string().describe('Why, in words.'),
    /** Which kind of rule chose it. */
    source: HandoffSource.optional().describe('Which kind of rule chose it.'),
    /** The target as the rule named it, when it was not simply an agent (random, user, …). */
    target: Target.optional().describe('The target as the rule named it, when it was not simply an agent (random, user, …).'),
    /** The hop that the receiving agent runs. */
    hopId: z.string().describe('The hop that the receiving agent runs.'),
    seq: z.number().int().describe('The hop\'s number in the conversation: 1, 2, …'),
  })
  .describe('Control moved from one agent to another (or to the same one, for stay).');
/** The conversation is parked until the user writes (revert-to-user or ask-user). */
export const AwaitingUserEvent = z
  .object({
    ...base,
    type: z.literal('awaiting.user'),
    waiting: Waiting.describe('What it waits for: the user (revert or ask), approvals, or a child.'),
  })
  .describe('The conversation is parked until the user writes (revert-to-user or ask-user).');
/** The user wrote; the conversation continues. */
export const UserMessageEvent = z
  .object({
    ...base,
    type: z.literal('user.message'),
    text: z.string().describe('The user\'s message.'),
    /** The agent that continues. */
    agent: z.string().describe('The agent that continues.'),
  })
  .describe('The user wrote; the conversation continues.');
/** A nested chat or group chat started as a child conversation. */
export const NestedStartedEvent = z
  .object({
    ...base,
    type: z.literal('nested.started'),
    childConversationId: z.string().describe('The id of the child conversation.'),
    entry: z.string().describe('The child\'s entry agent.'),
    caller: z.string().describe('The agent that continues with the child\'s summary.'),
  })
  .describe('A nested chat or group chat started as a child conversation.');
/** A child conversation ended; its summary went back to the caller. */
export const NestedCompletedEvent = z
  .object({
    ...base,
    type: z.literal('nested.completed'),
    childConversationId: z.string().describe('The id of the child conversation.'),
    status: z.string().describe('The child\'s final status.'),
    summary: z.string().describe('What the child answered; the caller continues with it.'),
  })
  .describe('A child conversation ended; its summary went back to the caller.');
/** A child conversation stopped to wait for its own user: the parent waits on it, and the user answers the child. */
export const NestedAwaitingUserEvent = z
  .object({
    ...base,
    type: z.literal('nested.awaiting_user'),
    childConversationId: z.string().describe('The id of the child conversation.'),
    agent: z.string().nullable().describe('The child agent that asks.'),
    question: z.string().optional().describe('What the child asks its user.'),
  })
  .describe('A child conversation stopped to wait for its own user: the parent waits on it, and the user answers the child.');
/** A turn changed context variables. */
export const ContextUpdatedEvent = z
  .object({
    ...base,
    type: z.literal('context.updated'),
    agent: z.string().describe('The agent whose turn changed it.'),
    patch: ContextVariables.describe('The variables set (merged over the context).'),
  })
  .describe('A turn changed context variables.');
/** A tool call waits for a person's approval. */
export const ApprovalRequestedEvent = z
  .object({
    ...base,
    type: z.literal('approval.requested'),
    agent: z.string().describe('The agent that made the call.'),
    toolCallId: z.string().describe('The id the model gave the tool call.'),
    name: z.string().describe('The tool that waits for approval.'),
    arguments: z.string().describe('The arguments the model gave, as JSON text.'),
  })
  .describe('A tool call waits for a person\'s approval.');
/** A person approved or rejected a tool call. */
export const ApprovalDecidedEvent = z
  .object({
    ...base,
    type: z.literal('approval.decided'),
    toolCallId: z.string().describe('The id the model gave the tool call.'),
    approved: z.boolean().describe('True when approved, false when rejected.'),
    reason: z.string().optional().describe('Why (a rejection\'s reason reaches the agent).'),
  })
  .describe('A person approved or rejected a tool call.');
/** A router picked an agent (pool strategy, capability, health). */
export const RoutingDecidedEvent = z
  .object({
    ...base,
    type: z.literal('routing.decided'),
    router: z.string().describe('The router (or `health` when an agent with no live worker was routed around).'),
    strategy: z.string().describe('The strategy that decided (round_robin, least_loaded, capability, health, …).'),
    agent: z.string().describe('The agent picked.'),
    reason: z.string().describe('Why, in words.'),
    details: z.record(z.string(), z.unknown()).optional().describe('Structured facts about it.'),
  })
  .describe('A router picked an agent (pool strategy, capability, health).');
/** A failed step goes to the next agent of a fallback list. */
export const FallbackEvent = z
  .object({
    ...base,
    type: z.literal('fallback'),
    from: z.string().describe('The agent that failed the step.'),
    to: z.string().describe('The agent that takes it.'),
    error: ErrorJson.describe('The error: code, message, retryable, details.'),
    /** 1 for the first fallback of this step. */
    attempt: z.number().int().describe('1 for the first fallback of this step.'),
  })
  .describe('A failed step goes to the next agent of a fallback list.');
/** Something the operator should know that does not stop the conversation (e.g. no live worker). */
export const WarningEvent = z
  .object({
    ...base,
    type: z.literal('warning'),
    message: z.string().describe('What happened, in words.'),
    details: z.record(z.string(), z.unknown()).optional().describe('Structured facts about it.'),
  })
  .describe('Something the operator should know that does not stop the conversation (e.g. no live worker).');
/** The conversation was cancelled. */
export const ConversationCancelledEvent = z
  .object({
    ...base,
    type: z.literal('conversation.cancelled'),
    result: ConversationResult.describe('How it ended, as result() returns it.'),
  })
  .describe('The conversation was cancelled.');
/** Something went wrong; a terminal event follows if the conversation cannot continue. */
export const ErrorEvent = z
  .object({
    ...base,
    type: z.literal('error'),
    error: ErrorJson.describe('The error: code, message, retryable, details.'),
    agent: z.string().optional().describe('The agent of the failed hop, when there is one.'),
    hopId: z.string().optional().describe('The failed hop, when there is one.'),
  })
  .describe('Something went wrong; a terminal event follows if the conversation cannot continue.');
/** The conversation finished with an answer. */
export const ConversationCompletedEvent = z
  .object({
    ...base,
    type: z.literal('conversation.completed'),
    result: ConversationResult.describe('How it ended, as result() returns it.'),
  })
  .describe('The conversation finished with an answer.');
/** The conversation ended without an answer (limit, error). */
export const ConversationFailedEvent = z
  .object({
    ...base,
    type: z.literal('conversation.failed'),
    result: ConversationResult.describe('How it ended, as result() returns it.'),
  })
  .describe('The conversation ended without an answer (limit, error).');

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
