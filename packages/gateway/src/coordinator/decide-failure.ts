import type { ConversationRecord, ErrorJson, NewEvent, TerminalReason } from '@handoff/core';
import { mustResult, versionStep, type Decision } from './decision.js';

/**
 * Decides how a conversation ends because of something outside its turns — a hop whose job failed
 * for good, an invalid job, its deadline, a cancellation — as a step that keeps the applied
 * sequence and is guarded by the record's version only. Pure.
 */
export function decideFailure(record: ConversationRecord, error: ErrorJson, reason: TerminalReason = 'error', now = Date.now()): Decision {
  const cancelled = reason === 'cancelled';
  const failed: ConversationRecord = { ...record, status: cancelled ? 'cancelled' : 'failed', terminalReason: reason, error, next: null, waiting: null, updatedAt: now };
  const result = mustResult(failed);
  const events: NewEvent[] = cancelled
    ? [{ type: 'conversation.cancelled', result }]
    : [{ type: 'error', error, ...(record.currentAgent ? { agent: record.currentAgent } : {}) }, { type: 'conversation.failed', result }];
  return versionStep(record, failed, events, 'parked');
}
