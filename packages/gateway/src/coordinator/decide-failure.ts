import type { ConversationRecord, ErrorJson, NewEvent, TerminalReason } from '@handoff/core';
import { mustResult, versionStep, type Decision } from './decision.js';

/**
 * Decides how a conversation ends because of something outside its turns — a hop whose job failed
 * for good, an invalid job, its deadline, a cancellation — as a step that keeps the applied
 * sequence and is guarded by the record's version only. Pure.
 */
export function decideFailure(record: ConversationRecord, error: ErrorJson, reason: TerminalReason = 'error', now = Date.now()): Decision {
  const cancelled = reason === 'cancelled';
  // What was in flight is kept, so the end's effects (drop the hop, abort the turn, end the child) can run again after a crash.
  const interrupted = {
    agent: record.status === 'running' ? (record.next?.agent ?? null) : null,
    hopId: record.status === 'running' ? (record.next?.hopId ?? null) : null,
    childId: record.waiting?.kind === 'child' ? record.waiting.childId : null,
  };
  const failed: ConversationRecord = { ...record, status: cancelled ? 'cancelled' : 'failed', terminalReason: reason, error, next: null, waiting: null, interrupted, updatedAt: now };
  return versionStep(record, failed, endEvents(failed, record.currentAgent), 'parked');
}

/** The events of an end from outside: `conversation.cancelled`, or an `error` (of `agent`, if any) and `conversation.failed`. */
export function endEvents(ended: ConversationRecord, agent: string | null): NewEvent[] {
  const result = mustResult(ended);
  if (ended.status === 'cancelled') return [{ type: 'conversation.cancelled', result }];
  const error = ended.error ?? { code: 'INTERNAL', message: 'unreachable: a failed record without an error', retryable: false };
  return [{ type: 'error', error, ...(agent ? { agent } : {}) }, { type: 'conversation.failed', result }];
}
