import { fnv1a, resultOfRecord, type ConversationRecord, type ConversationResult, type Message, type NewEvent } from '@handoff/core';
import type { ApplyStep } from '@handoff/redis';

/** A step together with the record as it will be once the step is applied. */
export interface Decision {
  step: ApplyStep;
  record: ConversationRecord;
}

/**
 * A step that is not a turn (approvals, a user message, a child's end, a failure from outside):
 * it keeps the applied sequence and applies only if the record is still at the version `before`
 * was read at.
 */
export function versionStep(before: ConversationRecord, after: ConversationRecord, events: NewEvent[], lifecycle: ApplyStep['lifecycle'], messages: Message[] = []): Decision {
  return {
    record: after,
    step: { conversationId: before.conversationId, expectedSeq: null, newSeq: null, expectedVersion: before.version, messages, record: after, events, lifecycle },
  };
}

/** The result a parked record stands for (it must be ended or awaiting the user). */
export function mustResult(record: ConversationRecord): ConversationResult {
  const result = resultOfRecord(record);
  if (result === null) throw new Error(`unreachable: a ${record.status} record has no result`);
  return result;
}

/** A deterministic index in [0, n) from a string (FNV-1a), so a redelivered decision picks the same. */
export function stableIndex(seed: string, n: number): number {
  return n > 0 ? fnv1a(seed) % n : 0;
}
