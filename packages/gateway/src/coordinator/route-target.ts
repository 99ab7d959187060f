import {
  MaxHopsExceededError,
  UnknownAgentError,
  hopId,
  type ConversationRecord,
  type ErrorJson,
  type HandoffSource,
  type JsonValue,
  type NetworkDefinition,
  type NewEvent,
  type GroupSettings,
  type Target,
  type TerminalReason,
  type Waiting,
} from '@handoff/core';
import { mustResult, stableIndex } from './decision.js';

/** A decided next state: the record after the step, the events it adds, and its lifecycle. */
export interface Routed {
  record: ConversationRecord;
  events: NewEvent[];
  lifecycle: 'active' | 'parked';
}

/** Where control comes from when it is routed. */
export interface RouteFrom {
  /** The agent whose turn (or the user whose message) led here. */
  agent: string;
  /** The hop that led here, if any. */
  hopId: string | null;
  reason: string;
  source: HandoffSource;
  args?: Record<string, JsonValue> | undefined;
  /** The agent's answer in this turn, if any (the output if the conversation ends here). */
  output?: string | undefined;
}

/** Ends the conversation as completed with `output`. */
export function complete(record: ConversationRecord, output: string | null, events: NewEvent[]): Routed {
  const done: ConversationRecord = { ...record, status: 'completed', terminalReason: 'final_output', output, error: null, next: null, waiting: null };
  return { record: done, events: [...events, { type: 'conversation.completed', result: mustResult(done) }], lifecycle: 'parked' };
}

/** Ends the conversation as failed. */
export function fail(record: ConversationRecord, error: ErrorJson, events: NewEvent[], reason: TerminalReason = 'error', agent?: string): Routed {
  const failed: ConversationRecord = { ...record, status: 'failed', terminalReason: reason, error, next: null, waiting: null };
  return {
    record: failed,
    events: [...events, { type: 'error', error, ...(agent ? { agent } : {}) }, { type: 'conversation.failed', result: mustResult(failed) }],
    lifecycle: 'parked',
  };
}

/** The agents a conversation may hand to (its group's members, or the whole network). */
function members(network: NetworkDefinition, record: ConversationRecord): readonly string[] {
  return record.group?.members ?? network.agentNames;
}

/**
 * Publishes the next hop to `agent`, within the hop limit (counted per run: from the start, or from
 * the user's last message).
 */
export function continueWith(network: NetworkDefinition, record: ConversationRecord, agent: string, from: RouteFrom, events: NewEvent[], target?: Target): Routed {
  const allowed = members(network, record);
  if (!allowed.includes(agent)) {
    return fail(record, new UnknownAgentError(agent, allowed, `Handoff from "${from.agent}"`).toJSON(), events, 'error', from.agent);
  }
  const seq = record.appliedSeq + 1;
  if (seq - record.runStartSeq > record.maxHops) {
    return fail(record, new MaxHopsExceededError(record.maxHops, record.path, agent).toJSON(), events, 'max_hops_exceeded', from.agent);
  }
  const loop = loopLimitBreached(record, agent);
  if (loop) return fail(record, loop.error, events, loop.reason, from.agent);
  const nextHop = hopId(record.conversationId, seq);
  const moved: ConversationRecord = {
    ...record,
    status: 'running',
    currentAgent: agent,
    path: [...record.path, agent],
    waiting: null,
    next: { seq, hopId: nextHop, agent, previousAgent: from.agent, parentHopId: from.hopId, reason: from.reason, ...(from.args ? { args: from.args } : {}) },
  };
  const handoff: NewEvent = {
    type: 'handoff',
    from: from.agent,
    to: agent,
    reason: from.reason,
    source: from.source,
    hopId: nextHop,
    seq,
    ...(target && target.type !== 'agent' ? { target } : {}),
  };
  return { record: moved, events: [...events, handoff], lifecycle: 'active' };
}

/**
 * Resolves a target into the conversation's next state: a hop to an agent (named, the same one,
 * or a random other), the end, a wait for the user, or a wait for a nested or group chat (started
 * as a child conversation by the coordinator's effects). Pure; a random pick is seeded by the hop,
 * so the same turn always picks the same agent.
 */
export function routeTarget(network: NetworkDefinition, record: ConversationRecord, target: Target, from: RouteFrom, events: NewEvent[]): Routed {
  switch (target.type) {
    case 'agent':
      return continueWith(network, record, target.agent, from, events);
    case 'stay':
      return continueWith(network, record, from.agent, from, events, target);
    case 'terminate':
      return complete(record, from.output ?? record.output, events);
    case 'random': {
      const candidates = target.agents.filter((a) => a !== from.agent && members(network, record).includes(a));
      if (candidates.length === 0) {
        return fail(record, new UnknownAgentError(`(a random one of ${target.agents.join(', ')} other than ${from.agent})`, members(network, record), 'Random target').toJSON(), events, 'error', from.agent);
      }
      const picked = candidates[stableIndex(`${record.conversationId}.${record.appliedSeq}`, candidates.length)]!;
      return continueWith(network, record, picked, { ...from, reason: `${from.reason} (random pick of ${candidates.join(', ')})` }, events, target);
    }
    case 'revert_to_user':
    case 'ask_user': {
      const waiting =
        target.type === 'ask_user'
          ? { kind: 'user' as const, mode: 'ask' as const, agent: from.agent, ...(target.question ? { question: target.question } : {}), choices: target.choices ?? [...members(network, record)] }
          : { kind: 'user' as const, mode: 'revert' as const, agent: from.agent };
      const parked: ConversationRecord = { ...record, status: 'awaiting_user', terminalReason: 'awaiting_user', output: from.output ?? record.output, next: null, waiting };
      return { record: parked, events: [...events, { type: 'awaiting.user', waiting }], lifecycle: 'parked' };
    }
    case 'nested_chat':
    case 'group_chat': {
      if (record.depth >= network.maxNestingDepth) {
        return fail(record, { code: 'INVALID_DEFINITION', message: `Nested chats may nest ${network.maxNestingDepth} deep (maxNestingDepth); "${from.agent}" asked for one more.`, retryable: false }, events, 'error', from.agent);
      }
      const remaining = target.type === 'nested_chat' ? target.chats.slice(1) : [];
      const spec = childSpec(network, target, 0);
      const waiting: Waiting = { kind: 'child', childId: childConversationId(record, 0), caller: from.agent, ...spec, remaining, index: 0 };
      const parked: ConversationRecord = { ...record, status: 'awaiting_child', output: from.output ?? record.output, next: null, waiting };
      return { record: parked, events: [...events, { type: 'nested.started', childConversationId: waiting.childId, entry: spec.entry, caller: from.agent }], lifecycle: 'active' };
    }
    case 'group_manager':
    case 'route':
      // Resolved before deciding (the worker picks by group manager, the coordinator by router).
      return fail(record, { code: 'ROUTING_FAILED', message: `A ${target.type} target reached the decision unresolved.`, retryable: false }, events, 'error', from.agent);
  }
}

/** The id of the k-th child conversation started from the parent's current step. */
export function childConversationId(record: ConversationRecord, k: number): string {
  return `${record.conversationId}-s${record.appliedSeq}v${record.version}c${k}${record.epoch ? `e${record.epoch}` : ''}`;
}

/** What a nested or group chat target starts. */
export interface ChildSpec {
  entry: string;
  message?: string;
  maxHops?: number;
  group: GroupSettings | null;
}

function childSpec(network: NetworkDefinition, target: Extract<Target, { type: 'nested_chat' | 'group_chat' }>, k: number): ChildSpec {
  if (target.type === 'group_chat') {
    return {
      entry: target.entry,
      ...(target.message === undefined ? {} : { message: target.message }),
      ...(target.maxHops === undefined ? {} : { maxHops: target.maxHops }),
      group: { members: target.agents ?? [...network.agentNames], pattern: target.pattern ?? 'default' },
    };
  }
  const chat = target.chats[k]!;
  return { entry: chat.agent, ...(chat.message === undefined ? {} : { message: chat.message }), ...(chat.maxHops === undefined ? {} : { maxHops: chat.maxHops }), group: null };
}

/** Consecutive handoffs back and forth between the same two agents at the end of `path`. */
export function pingPongLength(path: readonly string[]): number {
  const n = path.length;
  if (n < 2 || path[n - 1] === path[n - 2]) return 0;
  let length = 1;
  for (let i = n - 3; i >= 0 && path[i] === path[i + 2]; i--) length++;
  return length;
}

/** The loop limit (visits per agent, ping-pong) that a hop to `agent` would break, if any. */
function loopLimitBreached(record: ConversationRecord, agent: string): { reason: 'max_visits_exceeded' | 'ping_pong_detected'; error: ErrorJson } | undefined {
  const { maxVisitsPerAgent, maxPingPong } = record.limits;
  const path = [...record.path, agent];
  if (maxVisitsPerAgent !== null) {
    const visits = path.filter((a) => a === agent).length;
    if (visits > maxVisitsPerAgent) {
      return { reason: 'max_visits_exceeded', error: { code: 'MAX_VISITS_EXCEEDED', message: `Agent "${agent}" would take turn ${visits}; the limit is ${maxVisitsPerAgent} per conversation.`, retryable: false, details: { agent, visits, maxVisitsPerAgent } } };
    }
  }
  if (maxPingPong !== null) {
    const length = pingPongLength(path);
    if (length > maxPingPong) {
      const pair = [path[path.length - 2], agent];
      return { reason: 'ping_pong_detected', error: { code: 'PING_PONG_DETECTED', message: `${pair[0]} and ${pair[1]} handed back and forth ${length} times in a row; the limit is ${maxPingPong}.`, retryable: false, details: { pair, handoffs: length, maxPingPong } } };
    }
  }
  return undefined;
}
