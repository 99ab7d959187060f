import { addUsage, type ConversationRecord, type ErrorJson, type NetworkDefinition, type NewEvent, type TurnResult, type Waiting } from '@handoff/core';
import type { Decision } from './decision.js';
import { nextFallback, worthFallingBack } from './fallback.js';
import { complete, continueWith, fail, routeTarget, type Routed } from './route-target.js';

/**
 * Decides what a turn result does to its conversation: the history it appends, the context patch,
 * and what comes next — the target the turn's rules chose (resolved by {@link routeTarget}), the
 * final answer, the next fallback agent for a failed turn, or a failure. Budgets (tokens, the
 * deadline) are checked first. Pure: the same record, turn and clock give the same step.
 */
export function decideTurn(network: NetworkDefinition, record: ConversationRecord, turn: TurnResult, now = Date.now(), extraEvents: NewEvent[] = []): Decision {
  const outcome = turn.outcome;
  const applied: ConversationRecord = {
    ...record,
    appliedSeq: turn.seq,
    historyLength: record.historyLength + turn.newMessages.length,
    currentAgent: turn.agent,
    context: turn.contextPatch ? { ...record.context, ...turn.contextPatch } : record.context,
    usage: addUsage(record.usage, turn.usage),
    failures: outcome.type === 'failed' ? record.failures : [],
    updatedAt: now,
  };
  const events: NewEvent[] = [
    {
      type: 'agent.completed',
      agent: turn.agent,
      hopId: turn.hopId,
      seq: turn.seq,
      outcome: outcome.type === 'final' ? 'final' : outcome.type === 'failed' ? 'failed' : outcome.type === 'approval' ? 'approval' : 'handoff',
      ...(turn.newMessages.length > 0 ? { messages: { from: record.historyLength, count: turn.newMessages.length } } : {}),
      timing: turn.timing,
    },
  ];
  if (turn.contextPatch) events.push({ type: 'context.updated', agent: turn.agent, patch: turn.contextPatch });
  events.push(...extraEvents);

  const { maxTokens, deadlineAt } = record.limits;
  const used = applied.usage.promptTokens + applied.usage.completionTokens;
  let routed: Routed;
  if (outcome.type !== 'failed' && maxTokens !== null && used > maxTokens) {
    routed = fail(applied, { code: 'TOKEN_BUDGET_EXCEEDED', message: `The conversation used ${used} tokens; its budget is ${maxTokens}.`, retryable: false, details: { used, maxTokens } }, events, 'token_budget_exceeded', turn.agent);
  } else if (outcome.type !== 'failed' && deadlineAt !== null && now > deadlineAt) {
    routed = fail(applied, { code: 'DEADLINE_EXCEEDED', message: `The conversation ran past its deadline (${new Date(deadlineAt).toISOString()}).`, retryable: false, details: { deadlineAt } }, events, 'deadline_exceeded', turn.agent);
  } else {
    switch (outcome.type) {
      case 'final':
        routed = complete(applied, outcome.output, events);
        break;
      case 'failed':
        routed = failedTurn(network, applied, turn, outcome.error, events);
        break;
      case 'approval': {
        const waiting: Waiting = { kind: 'approval', agent: turn.agent, calls: outcome.calls, decisions: {} };
        const parked: ConversationRecord = { ...applied, status: 'awaiting_user', terminalReason: 'awaiting_user', next: null, waiting };
        routed = {
          record: parked,
          events: [
            ...events,
            ...outcome.calls.map((call): NewEvent => ({ type: 'approval.requested', agent: turn.agent, toolCallId: call.toolCallId, name: call.name, arguments: call.arguments })),
            { type: 'awaiting.user', waiting },
          ],
          lifecycle: 'parked',
        };
        break;
      }
      case 'handoff':
        routed = routeTarget(network, applied, outcome.target, { agent: turn.agent, hopId: turn.hopId, reason: outcome.reason, source: outcome.source, args: outcome.args, output: outcome.output }, events);
        break;
    }
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

/**
 * A failed turn: the same step goes to the next agent of the fallback list (with an event per
 * attempt); when every fallback has failed, the conversation ends with an error listing each
 * failure; without fallbacks, with the turn's own error.
 */
function failedTurn(network: NetworkDefinition, record: ConversationRecord, turn: TurnResult, error: ErrorJson, events: NewEvent[]): Routed {
  const failures = [...record.failures, { agent: turn.agent, error }];
  const fallback = worthFallingBack(error) ? nextFallback(network, record, turn.agent) : undefined;
  if (fallback) {
    const attempt = failures.length;
    return continueWith(
      network,
      { ...record, failures },
      fallback,
      { agent: turn.agent, hopId: turn.hopId, reason: `fallback after ${turn.agent} failed: ${error.code}`, source: 'fallback' },
      [...events, { type: 'error', error, agent: turn.agent, hopId: turn.hopId }, { type: 'fallback', from: turn.agent, to: fallback, error, attempt }],
    );
  }
  if (failures.length > 1) {
    const summary = failures.map((f) => `${f.agent}: ${f.error.code} (${f.error.message})`).join('; ');
    return fail(
      { ...record, failures },
      { code: 'ALL_FALLBACKS_FAILED', message: `Every agent of the fallback list failed: ${summary}`, retryable: false, details: { failures } },
      events,
      'all_fallbacks_failed',
      turn.agent,
    );
  }
  return fail(record, error, events, 'error', turn.agent);
}
