import { endEvents } from './decide-failure.js';
import {
  messageText,
  UnknownAgentError,
  ZERO_USAGE,
  isHandoffError,
  validateContext,
  hopId,
  newEpoch,
  type ContextVariables,
  type ConversationLimits,
  type ConversationRecord,
  type Message,
  type NetworkDefinition,
  type NewEvent,
  type StartCommand,
  type ErrorJson,
  type TerminalReason,
} from '@handoff/core';
import { mustResult, type Decision } from './decision.js';

export type { Decision } from './decision.js';

/** The input of a start command as history messages. */
export function inputMessages(input: StartCommand['input']): Message[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : input;
}

/** The text of the user's opening message (the last user message among `messages`), if any. */
export function openingText(messages: readonly Message[]): string | undefined {
  const opening = [...messages].reverse().find((message) => message.role === 'user');
  return opening ? messageText(opening) : undefined;
}

/** What a new conversation starts with. */
export interface NewConversation {
  conversationId: string;
  entryAgent: string;
  messages: Message[];
  context: ContextVariables;
  maxHops: number;
  createdAt: number;
  parent: ConversationRecord['parent'];
  depth: number;
  group: ConversationRecord['group'];
  limits: ConversationRecord['limits'];
  /** The incarnation. @defaultValue a new one */
  epoch?: string;
  /** Why the start is refused though its entry agent is known (e.g. INVALID_CONTEXT): it ends at once with this error. */
  refusal?: ErrorJson;
}

/** The conversation's loop and budget limits: its own, else the network's. */
export function resolveLimits(network: NetworkDefinition, limits: ConversationLimits, createdAt: number): ConversationRecord['limits'] {
  const merged = { ...network.limits, ...limits };
  return {
    maxVisitsPerAgent: merged.maxVisitsPerAgent ?? null,
    maxPingPong: merged.maxPingPong ?? null,
    deadlineAt: merged.deadlineMs === undefined ? null : createdAt + merged.deadlineMs,
    maxTokens: merged.maxTokens ?? null,
  };
}

/**
 * Decides how a conversation starts: its record, its first history messages and events, and its
 * first hop to the entry agent — or, for an entry agent the network (or the group) does not have,
 * a conversation that ends at once with an UNKNOWN_AGENT error (with `start.refusal`, that error).
 */
export function decideNewConversation(network: NetworkDefinition, start: NewConversation, now = Date.now()): Decision {
  const members = start.group?.members ?? network.agentNames;
  const entryKnown = network.agentNames.includes(start.entryAgent) && members.includes(start.entryAgent);
  const base: ConversationRecord = {
    conversationId: start.conversationId,
    network: network.name,
    status: 'running',
    epoch: start.epoch ?? newEpoch(),
    interrupted: null,
    entryAgent: start.entryAgent,
    currentAgent: start.entryAgent,
    appliedSeq: 0,
    version: 0,
    historyLength: start.messages.length,
    path: [start.entryAgent],
    context: start.context,
    maxHops: start.maxHops,
    usage: ZERO_USAGE,
    output: null,
    terminalReason: null,
    error: null,
    next: { seq: 1, hopId: hopId(start.conversationId, 1), agent: start.entryAgent, previousAgent: null, parentHopId: null, reason: 'entry' },
    waiting: null,
    parent: start.parent,
    depth: start.depth,
    runStartSeq: 0,
    group: start.group,
    limits: start.limits,
    failures: [],
    createdAt: start.createdAt,
    updatedAt: now,
  };
  const input = openingText(start.messages);
  const events: NewEvent[] = [{ type: 'conversation.started', entryAgent: start.entryAgent, context: start.context, ...(input === undefined ? {} : { input }) }];
  const step = (record: ConversationRecord, lifecycle: 'active' | 'parked'): Decision => ({
    record,
    step: { conversationId: start.conversationId, expectedSeq: null, expectedVersion: null, newSeq: 0, messages: start.messages, record, events, lifecycle },
  });
  if (entryKnown && start.refusal === undefined) return step(base, 'active');

  const error = entryKnown && start.refusal !== undefined ? start.refusal : new UnknownAgentError(start.entryAgent, members, 'Entry agent').toJSON();
  const record: ConversationRecord = { ...base, status: 'failed', currentAgent: null, path: [], terminalReason: 'error', error, next: null };
  events.push({ type: 'error', error }, { type: 'conversation.failed', result: mustResult(record) });
  return step(record, 'parked');
}

/**
 * The start's context checked against the network's context schema (its output, defaults applied),
 * or the INVALID_CONTEXT error that refuses the start — for clients that did not check it themselves.
 */
function checkedContext(network: NetworkDefinition, context: ContextVariables): { context: ContextVariables; refusal?: ErrorJson } {
  try {
    return { context: validateContext(network, context) };
  } catch (error) {
    if (!isHandoffError(error)) throw error;
    return { context, refusal: error.toJSON() };
  }
}

/** Decides how a conversation a client started begins (a context the network's schema refuses ends it at once, INVALID_CONTEXT). */
export function decideStart(network: NetworkDefinition, command: StartCommand, now = Date.now()): Decision {
  const checked = checkedContext(network, command.context);
  return decideNewConversation(
    network,
    {
      conversationId: command.conversationId,
      entryAgent: command.entryAgent,
      messages: inputMessages(command.input),
      context: checked.context,
      ...(checked.refusal === undefined ? {} : { refusal: checked.refusal }),
      maxHops: command.limits.maxHops ?? network.maxHops,
      createdAt: command.createdAt,
      parent: null,
      depth: 0,
      group: null,
      limits: resolveLimits(network, command.limits, command.createdAt),
    },
    now,
  );
}

/**
 * Decides the record of a conversation that ended before its start was applied: cancelled while
 * the start was still queued, or whose start command failed for good. It is created ended, so
 * its caller learns why, and a start that still comes finds it ended (starting an id twice starts
 * one conversation) instead of running a conversation its caller cancelled.
 */
export function decideEndedBeforeStart(network: NetworkDefinition, conversationId: string, error: ErrorJson, reason: TerminalReason, now = Date.now()): Decision {
  const started = decideNewConversation(network, { conversationId, entryAgent: network.entry, messages: [], context: {}, maxHops: network.maxHops, createdAt: now, parent: null, depth: 0, group: null, limits: resolveLimits(network, {}, now) }, now);
  const cancelled = reason === 'cancelled';
  const record: ConversationRecord = { ...started.record, status: cancelled ? 'cancelled' : 'failed', currentAgent: null, path: [], terminalReason: reason, error, next: null };
  return { record, step: { ...started.step, record, events: endEvents(record, null), lifecycle: 'parked' } };
}

/**
 * A start's decision with `events` (what routing decided on the way to the entry agent: a pool's
 * pick, a dead agent routed around) right after its `conversation.started`, which stays the first
 * event of every conversation.
 */
export function withEventsAfterStart(decision: Decision, events: readonly NewEvent[]): Decision {
  if (events.length === 0) return decision;
  const [started, ...rest] = decision.step.events;
  return { ...decision, step: { ...decision.step, events: started === undefined ? [...events] : [started, ...events, ...rest] } };
}
