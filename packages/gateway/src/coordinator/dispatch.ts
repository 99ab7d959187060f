import { SCHEMA_VERSION, hopJobId, hrNow, type ConversationRecord, type Envelope } from '@handoff/core';
import type { QueueSet } from '@handoff/redis';

/**
 * Publishes the record's pending hop to its agent's hop lane, if the record is at the point where
 * that hop is due. Idempotent: the hop job id is the hop id (and the conversation's incarnation), so
 * publishing twice queues it once. Its wake-up marker names the hop and its conversation (a `WakeHint`). Runs
 * after every apply, and again for a redelivered start or turn whose step was already applied —
 * the crash may have fallen between the apply and this publish.
 *
 * @returns the envelope published, or null when nothing was due.
 */
export async function dispatchPendingHop(record: ConversationRecord, queues: QueueSet): Promise<Envelope | null> {
  const next = record.next;
  if (record.status !== 'running' || next === null || record.appliedSeq !== next.seq - 1) return null;
  const envelope: Envelope = {
    schemaVersion: SCHEMA_VERSION,
    conversationId: record.conversationId,
    hopId: next.hopId,
    parentHopId: next.parentHopId,
    seq: next.seq,
    agent: next.agent,
    previousAgent: next.previousAgent,
    reason: next.reason,
    ...(next.args === undefined ? {} : { handoffArgs: next.args as Envelope['handoffArgs'] }),
    historyLength: record.historyLength,
    context: record.context,
    path: record.path,
    budget: { maxHops: record.maxHops },
    usage: record.usage,
    returnStack: [],
    ...(record.group ? { group: record.group } : {}),
    ...(next.resume ? { resume: next.resume } : {}),
    ...(next.traceparent === undefined ? {} : { traceparent: next.traceparent }),
    createdAt: hrNow(),
    ...(record.epoch ? { epoch: record.epoch } : {}),
  };
  // The wake-up names the conversation, so a blocked worker reads its turn input while it takes the hop.
  const hint = { conversationId: record.conversationId, historyLength: record.historyLength, ...(record.epoch ? { epoch: record.epoch } : {}) };
  await queues.lane(next.agent).push(hopJobId(next.hopId, record.epoch), JSON.stringify(envelope), hint);
  return envelope;
}
