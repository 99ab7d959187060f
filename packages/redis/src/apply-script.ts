/**
 * The atomic "apply" step of the coordinator, as one Lua script: a compare-and-set on the
 * conversation's applied sequence and record version, then the history append, the record update
 * and the events, all or nothing. Every key is of one conversation (one hash tag), so it runs on
 * Redis Cluster. Every successful apply increments the record's `version`.
 *
 * KEYS: record, history, events, done (a list that gets one entry when the conversation ends, for
 * waiters blocked on it), ops (the operation ids of the latest commands applied), starting (the
 * marker a client set while the start was queued; deleted when the record is created).
 * ARGV: expectedSeq ('' = the record must not exist yet), newSeq ('' = a step that is not a turn:
 *       the applied sequence stays, and expectedVersion must match), eventsMaxLen, ttlSeconds (> 0:
 *       park — expire after it and wake waiters; 0: as is; < 0: revive — persist and clear the wake mark),
 *       expectedVersion ('' = any), operationId ('' = none), maxOperations,
 *       nMessages, messages…, nFields, field, value…, nEvents, events…
 * Returns the new version (≥ 1) when applied, 0 when already applied (the record is at or past
 * newSeq, or the operation is recorded: a redelivery, or ioredis re-sending the script after a
 * lost reply), -1 out of order, -2 no record, -3 the record's version is not the expected one.
 */
export const APPLY_SCRIPT = `
local op = ARGV[6]
if op ~= '' and redis.call('LPOS', KEYS[5], op) then return 0 end
local current = redis.call('HGET', KEYS[1], 'appliedSeq')
local expected = ARGV[1]
local newSeq = tonumber(ARGV[2])
if ARGV[2] == '' then
  -- A step that is not a turn (a failure, a cancellation): the version check alone guards it.
  if not current then return -2 end
  if redis.call('HGET', KEYS[1], 'version') ~= ARGV[5] then return -3 end
  newSeq = tonumber(current)
elseif expected == '' then
  if current then return 0 end
else
  if not current then return -2 end
  local c = tonumber(current)
  if c >= newSeq then return 0 end
  if c ~= tonumber(expected) then return -1 end
  if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[5] then return -3 end
end
local i = 8
local nMessages = tonumber(ARGV[i])
if nMessages > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i + 1, i + nMessages))
end
i = i + nMessages + 1
local nFields = tonumber(ARGV[i])
redis.call('HSET', KEYS[1], 'appliedSeq', newSeq, unpack(ARGV, i + 1, i + 2 * nFields))
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
i = i + 2 * nFields + 1
local nEvents = tonumber(ARGV[i])
for e = 1, nEvents do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[i + e])
end
if op ~= '' then
  redis.call('LPUSH', KEYS[5], op)
  redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[7]) - 1)
end
if expected == '' and ARGV[2] ~= '' then redis.call('DEL', KEYS[6]) end
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  -- Parked (ended, or waiting for the user): wake result waiters; keep it for the retention period.
  redis.call('RPUSH', KEYS[4], 'done')
  for k = 1, 5 do redis.call('EXPIRE', KEYS[k], ttl) end
elseif ttl < 0 then
  -- Revived (a user message after a park): keep it again, and let waiters block until the next park.
  redis.call('DEL', KEYS[4])
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
  redis.call('PERSIST', KEYS[5])
elseif op ~= '' then
  -- A step on a parked conversation (one approval of several): the operations expire with the record.
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then redis.call('PEXPIRE', KEYS[5], left) end
end
return version
`;

/** What {@link APPLY_SCRIPT} returned. */
export const ApplyOutcome = {
  APPLIED: 'applied',
  ALREADY_APPLIED: 'already-applied',
  OUT_OF_ORDER: 'out-of-order',
  MISSING: 'missing',
  VERSION_CONFLICT: 'version-conflict',
} as const;
/** What {@link APPLY_SCRIPT} returned. */
export type ApplyOutcome = (typeof ApplyOutcome)[keyof typeof ApplyOutcome];

/** What one apply did: the outcome, and the record's new version when it applied. */
export interface ApplyResult {
  outcome: ApplyOutcome;
  version: number | null;
}

/** Maps the script's return value to an {@link ApplyResult}. */
export function applyResultFromCode(code: number): ApplyResult {
  if (code >= 1) return { outcome: ApplyOutcome.APPLIED, version: code };
  switch (code) {
    case 0:
      return { outcome: ApplyOutcome.ALREADY_APPLIED, version: null };
    case -1:
      return { outcome: ApplyOutcome.OUT_OF_ORDER, version: null };
    case -3:
      return { outcome: ApplyOutcome.VERSION_CONFLICT, version: null };
    default:
      return { outcome: ApplyOutcome.MISSING, version: null };
  }
}
