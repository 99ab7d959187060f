import { resultOfRecord, type ConversationRecord, type ErrorJson, type NewEvent, type TerminalReason } from '@handoff/core';
import type { Decision } from './decide-start.js';

/**
 * Decides how a conversation ends because of something outside its turns — a hop whose job failed
 * for good, an invalid job, its deadline, a cancellation — as a step that keeps the applied
 * sequence and is guarded by the record's version only. Pure.
 */
export function decideFailure(record: ConversationRecord, error: ErrorJson, reason: TerminalReason = 'error', now = Date.now()): Decision {
  const cancelled = reason === 'cancelled';
  const failed: ConversationRecord = { ...record, status: cancelled ? 'cancelled' : 'failed', terminalReason: reason, error, next: null, waiting: null, updatedAt: now };
  const result = resultOfRecord(failed);
  if (result === null) throw new Error('unreachable: a failed record has a result');
  const events: NewEvent[] = cancelled
    ? [{ type: 'conversation.cancelled', result }]
    : [{ type: 'error', error, ...(record.currentAgent ? { agent: record.currentAgent } : {}) }, { type: 'conversation.failed', result }];
  return {
    record: failed,
    step: {
      conversationId: record.conversationId,
      expectedSeq: null,
      newSeq: null,
      expectedVersion: record.version,
      messages: [],
      record: failed,
      events,
      lifecycle: 'parked',
    },
  };
}
