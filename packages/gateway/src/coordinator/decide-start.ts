import {
  UnknownAgentError,
  ZERO_USAGE,
  hopId,
  resultOfRecord,
  type ConversationRecord,
  type Message,
  type NetworkDefinition,
  type NewEvent,
  type StartCommand,
} from '@handoff/core';
import type { ApplyStep } from '@handoff/redis';

/** A step together with the record as it will be once the step is applied. */
export interface Decision {
  step: ApplyStep;
  record: ConversationRecord;
}

/** The input of a start command as history messages. */
export function inputMessages(input: StartCommand['input']): Message[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : input;
}

/**
 * Decides how a conversation starts: its record, its first history messages, its first events,
 * and the first hop to the entry agent — or, for an entry agent the network does not have, a
 * conversation that ends at once with an UNKNOWN_AGENT error (the client sees why).
 */
export function decideStart(network: NetworkDefinition, command: StartCommand, now = Date.now()): Decision {
  const entryKnown = network.agentNames.includes(command.entryAgent);
  const messages = inputMessages(command.input);
  const base: ConversationRecord = {
    conversationId: command.conversationId,
    network: network.name,
    status: 'running',
    entryAgent: command.entryAgent,
    currentAgent: command.entryAgent,
    appliedSeq: 0,
    version: 0,
    historyLength: messages.length,
    path: [command.entryAgent],
    context: command.context,
    maxHops: command.limits.maxHops ?? network.maxHops,
    usage: ZERO_USAGE,
    output: null,
    terminalReason: null,
    error: null,
    next: {
      seq: 1,
      hopId: hopId(command.conversationId, 1),
      agent: command.entryAgent,
      previousAgent: null,
      parentHopId: null,
      reason: 'entry',
    },
    createdAt: command.createdAt,
    updatedAt: now,
  };
  const events: NewEvent[] = [{ type: 'conversation.started', entryAgent: command.entryAgent, context: command.context }];

  if (entryKnown) {
    return { record: base, step: { conversationId: command.conversationId, expectedSeq: null, expectedVersion: null, newSeq: 0, messages, record: base, events, terminal: false } };
  }

  const error = new UnknownAgentError(command.entryAgent, network.agentNames, 'Entry agent').toJSON();
  const record: ConversationRecord = { ...base, status: 'failed', currentAgent: null, path: [], terminalReason: 'error', error, next: null };
  const result = resultOfRecord(record);
  if (result === null) throw new Error('unreachable: a failed record has a result');
  events.push({ type: 'error', error }, { type: 'conversation.failed', result });
  return { record, step: { conversationId: command.conversationId, expectedSeq: null, expectedVersion: null, newSeq: 0, messages, record, events, terminal: true } };
}
