import { DEFAULT_RETENTION_SECONDS, MAX_EVENTS_PER_CONVERSATION, MAX_TURN_JOURNAL_BYTES, type KeyLayout, type NewEvent } from '@handoff/core';
import type { RedisClient } from './connection.js';
import { encodeStoredEvent } from './event-codec.js';
import { APPEND_EVENTS_LUA, APPEND_LATE_LUA, hopPendingLua } from './small-scripts.js';

/** The hop whose turn a journal holds: a hop run by one agent, in one incarnation of its conversation. */
export interface JournalHop {
  conversationId: string;
  hopId: string;
  seq: number;
  /** The conversation's incarnation, when the envelope names one. */
  epoch?: string | undefined;
  /** The agent that runs the hop (a fallback agent runs the same hop id with a journal of its own). */
  agent: string;
}

/**
 * The guard every journal script starts with: the hop is still the one its conversation waits
 * for (running, applied up to the hop before it, same incarnation) — as the turn inbox checks
 * before it stores a result — and no run of it has stored its turn result yet (that step deletes
 * the journal: a racing run writing after it would leave an orphan). So a stale run can neither
 * write nor claim.
 * KEYS[1]: record; KEYS[turnKey]: the stored turn result. ARGV[1]: seq, ARGV[2]: epoch ('' for
 * none), ARGV[hopArg]: `"hopId":"<hop>"`, as the stored result's JSON names its hop.
 */
const pendingGuardLua = (turnKey: number, hopArg: number) => `
${hopPendingLua("{'stale'}")}local stored = redis.call('GET', KEYS[${turnKey}])
if stored and string.find(stored, ARGV[${hopArg}], 1, true) then return {'stale'} end
`;

/**
 * Appends the turn's events written since its last write (as the event log does: they land
 * before the entry, stale or not), then writes one journal entry unless the field has one already
 * (a racing run wrote it first: its value is returned for this run to adopt). A journal of another
 * hop or agent is dropped first.
 * KEYS: record, journal, claim (of a tool call; may be any key when ARGV[7] is ''), event stream, compacted log, turn result.
 * ARGV: seq, epoch, owner, field, value, TTL seconds, claim token ('' for none), max bytes, events max length, hop marker, event JSON….
 * Returns {'written'}, {'exists', value}, {'full'} or {'stale'}.
 */
const RECORD_LUA = `${APPEND_LATE_LUA}${APPEND_EVENTS_LUA}
if #ARGV > 10 then appendEvents(KEYS[4], KEYS[5], KEYS[1], ARGV[9], 11, #ARGV) end
${pendingGuardLua(6, 10)}
if redis.call('HGET', KEYS[2], '_owner') ~= ARGV[3] then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], '_owner', ARGV[3], '_bytes', 0)
end
redis.call('EXPIRE', KEYS[2], ARGV[6])
local existing = redis.call('HGET', KEYS[2], ARGV[4])
if existing then return {'exists', existing} end
local bytes = tonumber(redis.call('HGET', KEYS[2], '_bytes') or '0') + #ARGV[5]
if bytes > tonumber(ARGV[8]) then return {'full'} end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5], '_bytes', bytes)
if ARGV[7] ~= '' and redis.call('GET', KEYS[3]) == ARGV[7] then redis.call('DEL', KEYS[3]) end
return {'written'}
`;

/**
 * Claims a tool call before it runs: done when its result is journaled already, claimed when no
 * other run holds it (or this run does), busy when another run does.
 * KEYS: record, journal, claim, turn result. ARGV: seq, epoch, owner, field, token, claim TTL ms, hop marker.
 * Returns {'done', value}, {'claimed'}, {'busy'} or {'stale'}.
 */
const CLAIM_LUA = `${pendingGuardLua(4, 7)}
if redis.call('HGET', KEYS[2], '_owner') == ARGV[3] then
  local done = redis.call('HGET', KEYS[2], ARGV[4])
  if done then return {'done', done} end
end
if redis.call('SET', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[6]) then return {'claimed'} end
if redis.call('GET', KEYS[3]) == ARGV[5] then return {'claimed'} end
return {'busy'}
`;

/** Drops a claim if this run holds it. KEYS: claim. ARGV: token. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** What {@link TurnJournal.record} did. */
export type RecordOutcome = { status: 'written' } | { status: 'exists'; value: string } | { status: 'full' } | { status: 'stale' };

/** What {@link TurnJournal.claim} found. */
export type ClaimOutcome = { status: 'claimed' } | { status: 'busy' } | { status: 'done'; value: string } | { status: 'stale' };

type Reply = [string, string?];

/** How a stored turn result's JSON names its hop (`JSON.stringify` of a TurnResult): what the pending guard looks for. */
const hopMarker = (hop: JournalHop) => `"hopId":${JSON.stringify(hop.hopId)}`;
type Command = (...args: (string | number)[]) => Promise<Reply | number>;

/**
 * The turn journal in Redis: one hash per conversation (`conv:{id}:journal`, in the
 * conversation's slot, so every script here is single-slot on a Redis Cluster) holding the steps
 * of its pending hop's turn, and one short-lived key per tool call being run (its claim).
 *
 * Every write checks that the hop is still pending, in the same script, so a stale run (paused
 * past its lock, then resumed after the hop was applied) cannot pollute a journal. The journal
 * names its owner (`<hopId>|<epoch>|<agent>`); a write for another owner starts it afresh, so a
 * later hop or a fallback agent never replays an earlier turn's steps. The turn inbox deletes it
 * when it stores the turn's result; otherwise it expires with the conversation's retention.
 */
export class TurnJournal {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    /** How long a journal is kept after its last write. @defaultValue the record retention */
    private readonly ttlSeconds = DEFAULT_RETENTION_SECONDS,
    /** @defaultValue {@link MAX_TURN_JOURNAL_BYTES} */
    private readonly maxBytes = MAX_TURN_JOURNAL_BYTES,
  ) {
    const r = redis as unknown as Record<string, unknown>;
    if (!r.handoffJournalRecord) redis.defineCommand('handoffJournalRecord', { numberOfKeys: 6, lua: RECORD_LUA });
    if (!r.handoffJournalClaim) redis.defineCommand('handoffJournalClaim', { numberOfKeys: 4, lua: CLAIM_LUA });
    if (!r.handoffJournalRelease) redis.defineCommand('handoffJournalRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  }

  /** The owner a journal names: the hop, its incarnation and the agent that runs it. */
  static owner(hop: JournalHop): string {
    return `${hop.hopId}|${hop.epoch ?? ''}|${hop.agent}`;
  }

  /** The entries journaled for `hop` (field → JSON), empty when the journal belongs to no run of it. */
  async read(hop: JournalHop): Promise<Map<string, string>> {
    const all = await this.redis.hgetall(this.keys.turnJournal(hop.conversationId));
    const entries = new Map<string, string>();
    if (all._owner !== TurnJournal.owner(hop)) return entries;
    for (const [field, value] of Object.entries(all)) if (!field.startsWith('_')) entries.set(field, value);
    return entries;
  }

  /**
   * Journals `value` under `field` while `hop` is pending, after appending `events` to the
   * conversation's log in the same step (the events the entry stands for land first); when
   * `claimToken` is given, drops that claim of the field in the same step. An entry a racing run
   * wrote first is returned instead.
   */
  async record(hop: JournalHop, field: string, value: string, claimToken?: string, events: readonly NewEvent[] = []): Promise<RecordOutcome> {
    const id = hop.conversationId;
    const reply = (await this.command('handoffJournalRecord')(
      this.keys.conversation(id), this.keys.turnJournal(id), this.keys.turnJournalClaim(id, this.claimField(hop, field)), this.keys.events(id), this.keys.finishedEvents(id), this.keys.turnResult(id),
      hop.seq, hop.epoch ?? '', TurnJournal.owner(hop), field, value, this.ttlSeconds, claimToken ?? '', this.maxBytes, MAX_EVENTS_PER_CONVERSATION, hopMarker(hop),
      ...events.map((event) => encodeStoredEvent(id, event)),
    )) as Reply;
    if (reply[0] === 'exists') return { status: 'exists', value: reply[1] ?? '' };
    return { status: reply[0] as 'written' | 'full' | 'stale' };
  }

  /** Claims the tool call journaled under `field` for the run holding `token`, for `ttlMs`. */
  async claim(hop: JournalHop, field: string, token: string, ttlMs: number): Promise<ClaimOutcome> {
    const id = hop.conversationId;
    const reply = (await this.command('handoffJournalClaim')(
      this.keys.conversation(id), this.keys.turnJournal(id), this.keys.turnJournalClaim(id, this.claimField(hop, field)), this.keys.turnResult(id),
      hop.seq, hop.epoch ?? '', TurnJournal.owner(hop), field, token, Math.max(1, Math.ceil(ttlMs)), hopMarker(hop),
    )) as Reply;
    if (reply[0] === 'done') return { status: 'done', value: reply[1] ?? '' };
    return { status: reply[0] as 'claimed' | 'busy' | 'stale' };
  }

  /** Drops this run's claim of a tool call that it did not journal (its turn was aborted). */
  async release(hop: JournalHop, field: string, token: string): Promise<void> {
    await this.command('handoffJournalRelease')(this.keys.turnJournalClaim(hop.conversationId, this.claimField(hop, field)), token);
  }

  /** A claim key names the owner and the field, so claims of different hops or agents never meet. */
  private claimField(hop: JournalHop, field: string): string {
    return `${TurnJournal.owner(hop)}|${field}`;
  }

  private command(name: string): Command {
    const fn = (this.redis as unknown as Record<string, Command>)[name]!;
    return (...args) => fn.call(this.redis, ...args);
  }
}
