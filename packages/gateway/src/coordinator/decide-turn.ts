import {
  MaxHopsExceededError,
  UnknownAgentError,
  addUsage,
  hopId,
  resultOfRecord,
  type ConversationRecord,
  type ErrorJson,
  type NetworkDefinition,
  type NewEvent,
  type TerminalReason,
  type TurnResult,
} from '@handoff/core';
import type { Decision } from './decide-start.js';

/**
 * Decides what a turn result does to its conversation: the history it appends, the context patch,
 * and what comes next — a handoff to the next agent (within the hop limit and the agent's allowed
 * handoffs), the final answer, or a failure. Pure: the same record and turn give the same step.
 */
export function decideTurn(network: NetworkDefinition, record: ConversationRecord, turn: TurnResult, now = Date.now()): Decision {
  const applied: ConversationRecord = {
    ...record,
    appliedSeq: turn.seq,
    historyLength: record.historyLength + turn.newMessages.length,
    currentAgent: turn.agent,
    context: turn.contextPatch ? { ...record.context, ...turn.contextPatch } : record.context,
    usage: addUsage(record.usage, turn.usage),
    updatedAt: now,
  };
  const step = (next: ConversationRecord, events: NewEvent[], terminal: boolean): Decision => ({
    record: next,
    step: { conversationId: turn.conversationId, expectedSeq: turn.seq - 1, expectedVersion: record.version, newSeq: turn.seq, messages: turn.newMessages, record: next, events, terminal },
  });
  const fail = (reason: TerminalReason, error: ErrorJson, outcome: 'handoff' | 'failed'): Decision => {
    const failed: ConversationRecord = { ...applied, status: 'failed', terminalReason: reason, error, next: null };
    return step(failed, [completed(outcome), { type: 'error', error, agent: turn.agent, hopId: turn.hopId }, { type: 'conversation.failed', result: mustResult(failed) }], true);
  };
  const completed = (outcome: 'handoff' | 'final' | 'failed'): NewEvent => ({ type: 'agent.completed', agent: turn.agent, hopId: turn.hopId, seq: turn.seq, outcome, timing: turn.timing });

  const outcome = turn.outcome;
  switch (outcome.type) {
    case 'final': {
      const done: ConversationRecord = { ...applied, status: 'completed', terminalReason: 'final_output', output: outcome.output, next: null };
      return step(done, [completed('final'), { type: 'conversation.completed', result: mustResult(done) }], true);
    }
    case 'failed':
      return fail('error', outcome.error, 'failed');
    case 'handoff': {
      const allowed = network.agent(turn.agent, 'Turn result').handoffs.map((h) => h.agent);
      if (!allowed.includes(outcome.target)) {
        return fail('error', new UnknownAgentError(outcome.target, allowed, `Handoff from "${turn.agent}"`).toJSON(), 'handoff');
      }
      if (turn.seq >= record.maxHops) {
        return fail('max_hops_exceeded', new MaxHopsExceededError(record.maxHops, [...record.path, outcome.target]).toJSON(), 'handoff');
      }
      const nextSeq = turn.seq + 1;
      const nextHop = hopId(turn.conversationId, nextSeq);
      const moved: ConversationRecord = {
        ...applied,
        currentAgent: outcome.target,
        path: [...record.path, outcome.target],
        next: {
          seq: nextSeq,
          hopId: nextHop,
          agent: outcome.target,
          previousAgent: turn.agent,
          parentHopId: turn.hopId,
          reason: outcome.reason,
          ...(outcome.args === undefined ? {} : { args: outcome.args }),
        },
      };
      return step(moved, [completed('handoff'), { type: 'handoff', from: turn.agent, to: outcome.target, reason: outcome.reason, hopId: nextHop, seq: nextSeq }], false);
    }
  }
}

function mustResult(record: ConversationRecord) {
  const result = resultOfRecord(record);
  if (result === null) throw new Error('unreachable: a terminal record has a result');
  return result;
}
