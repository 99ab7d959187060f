import { hopId, type ApprovalCommand, type ConversationRecord, type NetworkDefinition, type NewEvent, type Waiting } from '@handoff/core';
import { versionStep, type Decision } from './decision.js';
import { continueWith } from './route-target.js';

/** Why approvals were not applied. */
export type ApprovalRefusal = 'not-waiting' | 'unknown-call';

/**
 * Decides what a person's approvals do: they are recorded for the tool calls the conversation
 * waits on; once every call has a decision, the agent that made them resumes — approved calls run,
 * rejected ones are answered as rejected — on any worker.
 */
export function decideApproval(network: NetworkDefinition, record: ConversationRecord, command: ApprovalCommand, now = Date.now()): Decision | ApprovalRefusal {
  const waiting = record.waiting;
  if (record.status !== 'awaiting_user' || waiting?.kind !== 'approval') return 'not-waiting';
  const pending = new Set(waiting.calls.map((c) => c.toolCallId));
  if (command.decisions.some((d) => !pending.has(d.toolCallId))) return 'unknown-call';
  const decisions = { ...waiting.decisions };
  const events: NewEvent[] = [];
  for (const d of command.decisions) {
    if (decisions[d.toolCallId]) continue; // decided before: the first decision stands
    decisions[d.toolCallId] = { approved: d.approved, ...(d.reason === undefined ? {} : { reason: d.reason }) };
    events.push({ type: 'approval.decided', toolCallId: d.toolCallId, approved: d.approved, ...(d.reason === undefined ? {} : { reason: d.reason }) });
  }
  const updated: Waiting = { ...waiting, decisions };
  const step = (next: ConversationRecord, allEvents: NewEvent[], lifecycle: 'active' | 'parked' | 'revived'): Decision => versionStep(record, next, allEvents, lifecycle);
  if (waiting.calls.some((call) => !decisions[call.toolCallId])) return step({ ...record, waiting: updated, updatedAt: now }, events, 'active');

  const resumed = { ...record, terminalReason: null, updatedAt: now };
  const routed = continueWith(network, resumed, waiting.agent, { agent: waiting.agent, hopId: null, reason: 'approvals decided', source: 'user' }, events);
  // The calls were made by the turn that parked for approval: the last one applied.
  const resume = { approvals: decisions, callsHopId: hopId(record.conversationId, record.appliedSeq) };
  const next = routed.record.next ? { ...routed.record, next: { ...routed.record.next, resume } } : routed.record;
  return step(next, routed.events, routed.lifecycle === 'parked' ? 'parked' : 'revived');
}
