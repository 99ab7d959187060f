import { ConversationRecord, parseBoundary } from '@handoff/core';

// Fields stored as JSON in the record hash; the rest are plain strings or numbers.
const JSON_FIELDS = ['path', 'interrupted', 'context', 'usage', 'error', 'next', 'terminalReason', 'output', 'currentAgent', 'waiting', 'parent', 'group', 'limits', 'failures'] as const;
const NUMBER_FIELDS = ['appliedSeq', 'version', 'historyLength', 'maxHops', 'depth', 'runStartSeq', 'createdAt', 'updatedAt'] as const;

/** Encodes (part of) a conversation record as flat hash field/value pairs. */
export function encodeRecordFields(record: Partial<ConversationRecord>): string[] {
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    // The apply script sets these two itself.
    if (value === undefined || field === 'appliedSeq' || field === 'version') continue;
    const encoded = (JSON_FIELDS as readonly string[]).includes(field) ? JSON.stringify(value) : String(value);
    pairs.push(field, encoded);
  }
  return pairs;
}

/** Decodes a record hash (HGETALL reply); null when the hash is empty (no such conversation). */
export function decodeRecord(hash: Record<string, string>): ConversationRecord | null {
  if (Object.keys(hash).length === 0) return null;
  const raw: Record<string, unknown> = { ...hash };
  for (const field of JSON_FIELDS) if (hash[field] !== undefined) raw[field] = JSON.parse(hash[field]);
  for (const field of NUMBER_FIELDS) if (hash[field] !== undefined) raw[field] = Number(hash[field]);
  return parseBoundary(ConversationRecord, raw, 'Conversation record');
}
