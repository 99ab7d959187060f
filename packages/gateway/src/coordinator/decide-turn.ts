import { addUsage, type ConversationRecord, type NetworkDefinition, type NewEvent, type TurnResult } from '@handoff/core';
import type { Decision } from './decision.js';
import { complete, fail, routeTarget, type Routed } from './route-target.js';

/**
 * Decides what a turn result does to its conversation: the history it appends, the context patch,
 * and what comes next — the target the turn's rules chose (resolved by {@link routeTarget}), the
 * final answer, or a failure. Pure: the same record and turn give the same step.
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
  const outcome = turn.outcome;
  const events: NewEvent[] = [
    {
      type: 'agent.completed',
      agent: turn.agent,
      hopId: turn.hopId,
      seq: turn.seq,
      outcome: outcome.type === 'final' ? 'final' : outcome.type === 'failed' ? 'failed' : 'handoff',
      timing: turn.timing,
    },
  ];
  if (turn.contextPatch) events.push({ type: 'context.updated', agent: turn.agent, patch: turn.contextPatch });

  let routed: Routed;
  switch (outcome.type) {
    case 'final':
      routed = complete(applied, outcome.output, events);
      break;
    case 'failed':
      routed = fail(applied, outcome.error, events, 'error', turn.agent);
      break;
    case 'handoff':
      routed = routeTarget(network, applied, outcome.target, { agent: turn.agent, hopId: turn.hopId, reason: outcome.reason, source: outcome.source, args: outcome.args, output: outcome.output }, events);
      break;
  }
  return {
    record: routed.record,
    step: {
      conversationId: turn.conversationId,
      expectedSeq: turn.seq - 1,
      expectedVersion: record.version,
      newSeq: turn.seq,
      messages: turn.newMessages,
      record: routed.record,
      events: routed.events,
      lifecycle: routed.lifecycle,
    },
  };
}
