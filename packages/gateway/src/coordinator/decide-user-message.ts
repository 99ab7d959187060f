import { messageText, type ConversationRecord, type Message, type NetworkDefinition, type UserMessageCommand } from '@handoff/core';
import { versionStep, type Decision } from './decision.js';
import { continueWith } from './route-target.js';

/** Why a user message was not applied. */
export type UserMessageRefusal = 'stale' | 'busy' | 'ended' | 'awaiting-approval';

/**
 * Decides what the user's message does: for a conversation waiting on a revert-to-user, the agent
 * that asked continues; on an ask-user, the agent the user picked (by `agent`, or by answering
 * with a choice's name) continues, and any other answer goes back to the agent that asked; a
 * completed conversation continues with its last agent, as a new run (the hop limit counts again).
 * The message applies only to the record version the client saw, so a double send applies once.
 */
export function decideUserMessage(network: NetworkDefinition, record: ConversationRecord, command: UserMessageCommand, now = Date.now()): Decision | UserMessageRefusal {
  if (record.version !== command.expectedVersion) return 'stale';
  if (record.status === 'running' || record.status === 'awaiting_child') return 'busy';
  if (record.status === 'failed' || record.status === 'cancelled') return 'ended';
  // The history ends with the agent's tool calls: a text now would leave them unanswered, which the model API refuses.
  if (record.waiting?.kind === 'approval') return 'awaiting-approval';
  const message: Message = typeof command.message === 'string' ? { role: 'user', content: command.message } : command.message;
  const text = messageText(message).trim();

  let agent = record.currentAgent ?? record.entryAgent;
  let reason = 'the user continued the conversation';
  const waiting = record.waiting;
  if (record.status === 'awaiting_user' && waiting?.kind === 'user') {
    agent = waiting.agent;
    reason = waiting.mode === 'revert' ? 'the user replied' : 'the user answered';
    if (waiting.mode === 'ask') {
      const choices = waiting.choices ?? [...network.agentNames];
      const picked = command.agent ?? choices.find((choice) => choice === text);
      if (picked !== undefined) {
        agent = picked;
        reason = `the user chose ${picked}`;
      }
    }
  }
  const revived: ConversationRecord = {
    ...record,
    historyLength: record.historyLength + 1,
    runStartSeq: record.status === 'completed' ? record.appliedSeq : record.runStartSeq,
    terminalReason: null,
    output: null,
    error: null,
    updatedAt: now,
  };
  const routed = continueWith(network, revived, agent, { agent: 'user', hopId: null, reason, source: 'user' }, [{ type: 'user.message', text, agent }]);
  return versionStep(record, routed.record, routed.events, routed.lifecycle === 'parked' ? 'parked' : 'revived', [message]);
}
