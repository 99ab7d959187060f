/**
 * The atomic "apply" step of the coordinator, as one Lua script: a compare-and-set on the
 * conversation's applied sequence, then the history append, the record update and the events,
 * all or nothing. Every key is of one conversation (one hash tag), so it runs on Redis Cluster.
 *
 * KEYS: record, history, events.
 * ARGV: expectedSeq ('' = the record must not exist yet), newSeq, eventsMaxLen, ttlSeconds (0 = keep),
 *       nMessages, messages…, nFields, field, value…, nEvents, events…
 * Returns 1 (applied), 0 (already applied: the record is at or past newSeq), -1 (out of order),
 * -2 (no record).
 */
export const APPLY_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'appliedSeq')
local expected = ARGV[1]
local newSeq = tonumber(ARGV[2])
if expected == '' then
  if current then return 0 end
else
  if not current then return -2 end
  local c = tonumber(current)
  if c >= newSeq then return 0 end
  if c ~= tonumber(expected) then return -1 end
end
local i = 5
local nMessages = tonumber(ARGV[i])
if nMessages > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i + 1, i + nMessages))
end
i = i + nMessages + 1
local nFields = tonumber(ARGV[i])
redis.call('HSET', KEYS[1], 'appliedSeq', ARGV[2], unpack(ARGV, i + 1, i + 2 * nFields))
i = i + 2 * nFields + 1
local nEvents = tonumber(ARGV[i])
for e = 1, nEvents do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[i + e])
end
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
return 1
`;

/** What {@link APPLY_SCRIPT} returned. */
export const ApplyOutcome = {
  APPLIED: 'applied',
  ALREADY_APPLIED: 'already-applied',
  OUT_OF_ORDER: 'out-of-order',
  MISSING: 'missing',
} as const;
/** What {@link APPLY_SCRIPT} returned. */
export type ApplyOutcome = (typeof ApplyOutcome)[keyof typeof ApplyOutcome];

/** Maps the script's return code to an {@link ApplyOutcome}. */
export function applyOutcomeFromCode(code: number): ApplyOutcome {
  switch (code) {
    case 1:
      return ApplyOutcome.APPLIED;
    case 0:
      return ApplyOutcome.ALREADY_APPLIED;
    case -1:
      return ApplyOutcome.OUT_OF_ORDER;
    default:
      return ApplyOutcome.MISSING;
  }
}
