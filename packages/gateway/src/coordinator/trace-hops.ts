import { contextOfTraceparent, markSpan, type ConversationRecord, type TurnResult } from '@handoff/core';
import type { Decision } from './decision.js';

/**
 * Where tracing meets the coordinator's decisions: the conversation's traceparent goes into its
 * record, and each next hop records the span its own span goes under. All of it is a no-op (no
 * traceparent anywhere) when tracing is off.
 */

/** The start decision with the conversation's traceparent on its record. */
export function withConversationTrace(decision: Decision, traceparent: string): Decision {
  const record = { ...decision.record, traceparent };
  return { record, step: { ...decision.step, record: { ...decision.step.record, traceparent } } };
}

/** The decision with `traceparent` on its next hop, when it has one (in the record and in the step that writes it). */
export function traceNextHop(decision: Decision, traceparent: string | undefined): Decision {
  const next = decision.record.next;
  if (traceparent === undefined || next === null || next.traceparent !== undefined) return decision;
  const traced = { ...next, traceparent };
  const step = decision.step.record.next === undefined ? decision.step : { ...decision.step, record: { ...decision.step.record, next: traced } };
  return { record: { ...decision.record, next: traced }, step };
}

/**
 * A `handoff` span (a moment, under the hop span of the turn that handed off) when the turn moved
 * control to another agent; its traceparent is where the next hop's span goes.
 */
export function handoffSpan(turn: TurnResult, decided: ConversationRecord, conversationTraceparent: string | undefined): string | undefined {
  const parent = turn.traceparent ?? conversationTraceparent;
  if (parent === undefined || turn.outcome.type !== 'handoff' || decided.next === null) return undefined;
  return markSpan(`handoff ${turn.agent} → ${decided.next.agent}`, contextOfTraceparent(parent), {
    'handoff.conversation_id': turn.conversationId,
    'handoff.from': turn.agent,
    'handoff.to': decided.next.agent,
    'handoff.reason': turn.outcome.reason,
    'handoff.source': turn.outcome.source,
  });
}
