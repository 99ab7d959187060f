import type { ChildDoneCommand, ConversationRecord, Message, NetworkDefinition, Waiting } from '@handoff/core';
import { versionStep, type Decision } from './decision.js';
import { childConversationId, continueWith } from './route-target.js';

/**
 * Decides what a child conversation's report does to its parent. A child that waits for its own
 * user leaves the parent waiting, with where (`waiting.childAwaitingUser`). A child that ended
 * (completed, failed or cancelled): with nested chats left and a completed child, the next one
 * starts, carrying this one's output; otherwise the summary (or why it did not complete) is added
 * to the parent's history and the agent that asked continues. A report about a child the parent
 * no longer waits for is ignored (null).
 */
export function decideChildDone(network: NetworkDefinition, record: ConversationRecord, command: ChildDoneCommand, now = Date.now()): Decision | null {
  const waiting = record.waiting;
  if (record.status !== 'awaiting_child' || waiting?.kind !== 'child' || waiting.childId !== command.childId) return null;
  const result = command.result;
  if (result.status === 'awaiting_user') {
    // The child waits for its own user: the parent keeps waiting, and says where.
    const question = result.waiting?.kind === 'user' ? result.waiting.question : result.waiting?.kind === 'approval' ? `approve ${result.waiting.calls.map((c) => c.name).join(', ')}` : undefined;
    const where = { conversationId: command.childId, agent: result.agent, ...(question === undefined ? {} : { question }) };
    const parked: ConversationRecord = { ...record, waiting: { ...waiting, childAwaitingUser: where }, updatedAt: now };
    return versionStep(record, parked, [{ type: 'nested.awaiting_user', childConversationId: command.childId, agent: result.agent, ...(question === undefined ? {} : { question }) }], 'active');
  }
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
