import type { ChildDoneCommand, ConversationRecord, Message, NetworkDefinition, Waiting } from '@handoff/core';
import { versionStep, type Decision } from './decision.js';
import { childConversationId, continueWith } from './route-target.js';

/**
 * Decides what a finished nested or group chat does to its parent: with nested chats left, the next
 * one starts, carrying this one's output; otherwise the summary is added to the parent's history
 * and the agent that asked continues. A result for a child the parent no longer waits for is
 * ignored (null).
 */
export function decideChildDone(network: NetworkDefinition, record: ConversationRecord, command: ChildDoneCommand, now = Date.now()): Decision | null {
  const waiting = record.waiting;
  if (record.status !== 'awaiting_child' || waiting?.kind !== 'child' || waiting.childId !== command.childId) return null;
  const result = command.result;
  const summary = result.status === 'completed' ? (result.output ?? '') : `The nested chat ${result.status}: ${result.error?.message ?? result.reason}`;
  const base = { ...record, updatedAt: now };
  const completedEvent = { type: 'nested.completed' as const, childConversationId: command.childId, status: result.status, summary };

  const next = waiting.remaining[0];
  if (next && result.status === 'completed') {
    const index = waiting.index + 1;
    const following: Waiting = {
      kind: 'child',
      childId: childConversationId(record, index),
      caller: waiting.caller,
      entry: next.agent,
      ...(next.message === undefined ? {} : { message: next.message }),
      ...(next.maxHops === undefined ? {} : { maxHops: next.maxHops }),
      group: null,
      carry: summary,
      remaining: waiting.remaining.slice(1),
      index,
    };
    const parked: ConversationRecord = { ...base, waiting: following };
    return versionStep(record, parked, [completedEvent, { type: 'nested.started', childConversationId: following.childId, entry: next.agent, caller: waiting.caller }], 'active');
  }

  const message: Message = { role: 'user', name: 'nested_chat', content: `Result of the nested chat (${result.path.join(' → ')}): ${summary}` };
  const resumed: ConversationRecord = { ...base, historyLength: record.historyLength + 1 };
  const routed = continueWith(network, resumed, waiting.caller, { agent: waiting.caller, hopId: null, reason: 'the nested chat returned its summary', source: 'nested_chat' }, [completedEvent]);
  return versionStep(record, routed.record, routed.events, routed.lifecycle, [message]);
}
