import { ConversationRecord, messageText, parseBoundary, type Message } from '@handoff/core';

// Fields stored as JSON in the record hash; the rest are plain strings or numbers.
const JSON_FIELDS = ['path', 'interrupted', 'context', 'usage', 'error', 'next', 'terminalReason', 'output', 'currentAgent', 'waiting', 'parent', 'group', 'limits', 'failures'] as const;
const NUMBER_FIELDS = ['appliedSeq', 'version', 'historyLength', 'maxHops', 'depth', 'runStartSeq', 'createdAt', 'updatedAt'] as const;
// Fields that may be left out of the hash when null (a finished conversation's record keeps only what it holds).
const NULLABLE_FIELDS = ['currentAgent', 'output', 'terminalReason', 'error', 'next', 'waiting', 'interrupted', 'parent', 'group'] as const;
const LIMIT_FIELDS = ['maxVisitsPerAgent', 'maxPingPong', 'deadlineAt', 'maxTokens'] as const;

/**
 * Encodes (part of) a conversation record as flat hash field/value pairs. Values are kept short,
 * so that a small record stays in Redis's compact hash encoding (every value ≤ 64 bytes): the
 * limits leave out the ones that are not set.
 */
export function encodeRecordFields(record: Partial<ConversationRecord>): string[] {
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    // The apply script sets these two itself.
    if (value === undefined || field === 'appliedSeq' || field === 'version') continue;
    let encoded: string;
    if (field === 'limits' && value !== null && typeof value === 'object') {
      encoded = JSON.stringify(Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)));
    } else {
      encoded = (JSON_FIELDS as readonly string[]).includes(field) ? JSON.stringify(value) : String(value);
    }
    pairs.push(field, encoded);
  }
  return pairs;
}

/**
 * Decodes a record hash (HGETALL reply); null when the hash is empty (no such conversation).
 * A finished conversation's record may hold its output as the index of the history entry whose
 * text it is (a number where the output is otherwise a JSON string or null): `outputEntry` is that
 * entry, as read with the hash; `conversationId` is the id of the record read (a finished record
 * leaves it out).
 */
export function decodeRecord(hash: Record<string, string>, outputEntry?: string | null, conversationId?: string): ConversationRecord | null {
  if (Object.keys(hash).length === 0) return null;
  // A finished conversation's record leaves out its id (the key says it) and fields at their default.
  const raw: Record<string, unknown> = { conversationId, failures: '[]', depth: '0', runStartSeq: '0', ...hash };
  for (const field of JSON_FIELDS) if (typeof raw[field] === 'string') raw[field] = JSON.parse(raw[field]);
  for (const field of NUMBER_FIELDS) if (typeof raw[field] === 'string') raw[field] = Number(raw[field]);
  for (const field of NULLABLE_FIELDS) if (raw[field] === undefined) raw[field] = null;
  if (typeof raw.output === 'number') raw.output = outputEntry ? messageText(JSON.parse(outputEntry) as Message) : null;
  if (raw.limits !== null && typeof raw.limits === 'object') raw.limits = { ...Object.fromEntries(LIMIT_FIELDS.map((f) => [f, null])), ...raw.limits };
  delete raw.endEventId;
  return parseBoundary(ConversationRecord, raw, 'Conversation record');
}

/** The hash of a flat `HGETALL`-style reply (`[field, value, …]`). */
export function hashOfPairs(pairs: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!;
  return hash;
}
