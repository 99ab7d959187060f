import { agentQueueName, queuePrefix } from '@handoff/core';
import type { RedisClient } from './connection.js';

/**
 * An agent's hop lane: the queue of hops waiting for that agent's workers, in a few plain Redis
 * structures of the agent's own slot, each step one small Lua script.
 *
 * A hop was a BullMQ job. A BullMQ job costs Redis about 60 commands and 5 script calls, and its
 * worker two wake-ups and a round trip before it holds the job (the marker, then `moveToActive`);
 * a hop needs none of BullMQ's delays, priorities, rate limits, events stream or completed-job
 * retention: its conversation record is its durable state. The lane keeps what a hop does need:
 *
 * - **FIFO and at most one holder:** `wait` is a list of hop ids (the same key BullMQ used, so
 *   admission control and KEDA's list trigger read it as before); {@link HopLane.take} moves ids
 *   to `leases`, a sorted set of lease deadlines, and names the holder's token in `meta`.
 * - **Crash safety:** a holder renews its leases while its turns run ({@link HopLane.renew}). A
 *   lease that ran out (its worker died or froze) is found by {@link HopLane.reclaim} — run by
 *   every worker and every gateway — and its hop goes back to the front of the wait list, counted
 *   as a stall; past the stall limit it fails instead.
 * - **Retries:** a run that throws ({@link HopLane.fail}) is retried after a backoff (`retry`, a
 *   sorted set of due times, promoted by the next take), until the attempts run out; then the hop
 *   is `failed` and waits for the gateway's failure sweeper (which gives it to the agent's fallbacks
 *   and the dead-letter queue).
 * - **Wake-ups:** a worker with nothing to take blocks on `wake`, a short list of markers each push
 *   adds (bounded: a lane without workers keeps at most {@link MAX_WAKE_MARKERS}).
 *
 * Every key is under `<prefix>:{agent.<name>}`, so a lane is one slot on a Redis Cluster. A hop
 * finished or removed leaves nothing behind.
 */
export class HopLane {
  /** The lane's keys, in the order every script takes them. */
  readonly keys: HopLaneKeys;
  private readonly ordered: Keys7;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    /** The agent whose hops these are. */
    readonly agent: string,
  ) {
    this.keys = hopLaneKeys(prefix, agent);
    this.ordered = [this.keys.wait, this.keys.data, this.keys.meta, this.keys.leases, this.keys.retry, this.keys.failed, this.keys.wake];
    defineLaneScripts(redis);
  }

  private get scripts(): LaneScripts {
    return this.redis as unknown as LaneScripts;
  }

  /**
   * Queues a hop under `id` (its hop job id), unless a hop of that id is already in the lane (then
   * nothing changes: publishing twice queues once). The wake-up marker it leaves for a blocked
   * worker carries `hint`, when given: what the worker may read before it has taken the hop.
   * @returns true when queued, false when the id was already there.
   */
  async push(id: string, payload: string, hint?: Omit<WakeHint, 'hop'>): Promise<boolean> {
    return (await this.scripts.handoffLanePush(...this.ordered, id, payload, MAX_WAKE_MARKERS, hint ? encodeWakeHint({ ...hint, hop: id }) : '')) === 1;
  }

  /**
   * Takes up to `max` waiting hops for the consumer `token`, each leased for `leaseMs` (due retries
   * first become waiting). Never blocks. Each run of a hop gets a holder of its own
   * (`<token>:<run>`), which every later step of that run names: a late run of a hop taken again
   * by the same consumer cannot finish, fail or renew the newer run. Times are Redis's clock, so
   * workers and gateways whose clocks differ agree on when a lease runs out.
   * @returns the hops taken, and in how many ms the next retry is due, if one is.
   */
  async take(token: string, leaseMs: number, max: number): Promise<{ hops: TakenHop[]; nextRetryInMs: number | undefined }> {
    const [rows, nextRetryInMs] = await this.scripts.handoffLaneTake(...this.ordered, leaseMs, token, max, MAX_WAKE_MARKERS);
    const hops = rows.map(([id, payload, runs, fails]) => ({ id, payload, runs: Number(runs), fails: Number(fails), holder: `${token}:${runs}` }));
    return { hops, nextRetryInMs: nextRetryInMs === null || nextRetryInMs === false ? undefined : Number(nextRetryInMs) };
  }

  /** Extends the leases of `runs` (each a hop and its run's holder) to `leaseMs` from now. @returns the ids no longer held by their run. */
  async renew(leaseMs: number, runs: readonly { id: string; holder: string }[]): Promise<string[]> {
    if (runs.length === 0) return [];
    return this.scripts.handoffLaneRenew(...this.ordered, leaseMs, ...runs.flatMap((run) => [run.id, run.holder]));
  }

  /** Removes a hop whose run `holder` holds it: the run is over. @returns false when it no longer held it (its lease ran out). */
  async finish(holder: string, id: string): Promise<boolean> {
    return (await this.scripts.handoffLaneFinish(...this.ordered, holder, id)) === 1;
  }

  /**
   * Counts a failed run of a hop its run `holder` holds: it is retried after `retryInMs`, or, when
   * this was attempt `attempts`, it is `failed` with `reason`.
   * @returns `retrying`, `failed`, or `not-held` when its lease had run out.
   */
  async fail(holder: string, id: string, reason: string, attempts: number, retryInMs: number): Promise<'retrying' | 'failed' | 'not-held'> {
    const outcome = await this.scripts.handoffLaneFail(...this.ordered, holder, id, reason.slice(0, 2_000), attempts, retryInMs, MAX_WAKE_MARKERS);
    return outcome === 1 ? 'retrying' : outcome === 0 ? 'failed' : 'not-held';
  }

  /** Hands a hop its run `holder` holds back to the front of the lane, untouched (not a failed attempt): a worker shutting down. */
  async release(holder: string, id: string): Promise<boolean> {
    return (await this.scripts.handoffLaneRelease(...this.ordered, holder, id, MAX_WAKE_MARKERS)) === 1;
  }

  /**
   * Puts back every hop whose lease ran out (its holder died or froze) at the front of the lane,
   * counting a stall; a hop that stalled more than `maxStalls` times fails instead. (Workers and
   * gateways both reclaim: give them the same `--max-stalled-count`.)
   * @returns how many went back, and how many failed.
   */
  async reclaim(maxStalls: number): Promise<{ requeued: number; failed: number }> {
    const [requeued, failed] = await this.scripts.handoffLaneReclaim(...this.ordered, maxStalls, STALLED_REASON, MAX_WAKE_MARKERS);
    return { requeued, failed };
  }

  /**
   * Removes a hop that no worker holds (waiting, retrying or failed) — with `onlyIf`, only when it
   * is in that state (the sweep removes a failed hop, not one a replay just queued again).
   * @returns 1 when removed, 0 when it is held by a worker, in another state, or not in the lane.
   */
  async remove(id: string, onlyIf?: Exclude<HopState, 'active' | 'unknown'>): Promise<number> {
    return this.scripts.handoffLaneRemove(...this.ordered, id, onlyIf ?? '');
  }

  /** Where a hop is. */
  async state(id: string): Promise<HopState> {
    const state = await this.redis.hget(this.keys.meta, id);
    return state === 'waiting' || state === 'active' || state === 'retrying' || state === 'failed' ? state : 'unknown';
  }

  /** The worker process holding a hop (the worker id in its holder's token), if one holds it. */
  async holder(id: string): Promise<string | null> {
    const holder = await this.redis.hget(this.keys.meta, `${id}|o`);
    return holder === null ? null : holder.split(':')[0]!;
  }

  /** The ids of the hops held by workers now. */
  async activeIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.leases, 0, -1);
  }

  /** A hop's payload, if the lane holds it. */
  async payload(id: string): Promise<string | null> {
    return this.redis.hget(this.keys.data, id);
  }

  /** How many hops wait (retries included), are held by workers, and failed. */
  async counts(): Promise<HopCounts> {
    const [waiting, active, retrying, failed] = await this.scripts.handoffLaneCounts(...this.ordered);
    return { waiting, active, retrying, failed };
  }

  /** The ids waiting, next to be taken first (at most `limit`). */
  async waitingIds(limit = 1_000): Promise<string[]> {
    return (await this.redis.lrange(this.keys.wait, -limit, -1)).reverse();
  }

  /** Up to `limit` failed hops, oldest failure first. */
  async failedHops(limit: number): Promise<FailedHop[]> {
    const rows = await this.scripts.handoffLaneFailed(...this.ordered, limit);
    return rows.map(([id, payload, reason, fails, stalls]) => ({ id, payload, reason: reason ?? 'unknown', fails: Number(fails ?? 0), stalls: Number(stalls ?? 0) }));
  }
}

/** Where a hop of a lane is: waiting to be taken, held by a worker, waiting to be retried, failed for good, or not in the lane. */
export type HopState = 'waiting' | 'active' | 'retrying' | 'failed' | 'unknown';

/** A hop a worker took. */
export interface TakenHop {
  id: string;
  /** The payload as pushed (the envelope's JSON). */
  payload: string;
  /** How many times it was taken, this time included (1 on its first run). */
  runs: number;
  /** How many runs of it failed before. */
  fails: number;
  /** This run's holder (`<consumer token>:<run>`), which its renewals, finish, failure or release name. */
  holder: string;
}

/** A hop that failed for good. */
export interface FailedHop {
  id: string;
  payload: string | null;
  reason: string;
  fails: number;
  stalls: number;
}

/** A lane's counts. */
export interface HopCounts {
  /** Waiting to be taken. */
  waiting: number;
  /** Held by a worker. */
  active: number;
  /** Waiting for a retry's backoff. */
  retrying: number;
  /** Failed for good, not yet swept. */
  failed: number;
}

/** The keys of an agent's lane. */
export interface HopLaneKeys {
  /** List of waiting hop ids (pushed left, taken right). */
  wait: string;
  /** Hash: hop id → payload. */
  data: string;
  /** Hash: hop id → state, and `<id>|r` runs, `<id>|f` failed runs, `<id>|s` stalls, `<id>|o` holder (`<token>:<run>`), `<id>|e` failure reason. */
  meta: string;
  /** Sorted set: held hop id → lease deadline (Unix ms). */
  leases: string;
  /** Sorted set: retrying hop id → when due (Unix ms). */
  retry: string;
  /** Sorted set: failed hop id → when it failed (Unix ms). */
  failed: string;
  /** List of wake-up markers for blocked workers. */
  wake: string;
}

/** The keys of `agent`'s lane under `prefix`. */
export function hopLaneKeys(prefix: string, agent: string): HopLaneKeys {
  const name = agentQueueName(agent);
  const base = `${queuePrefix(prefix, name)}:${name}`;
  return {
    wait: `${base}:wait`,
    data: `${base}:hop-data`,
    meta: `${base}:hop-meta`,
    leases: `${base}:hop-leases`,
    retry: `${base}:hop-retry`,
    failed: `${base}:hop-failed`,
    wake: `${base}:hop-wake`,
  };
}

/**
 * What a wake-up marker may say about the hop whose push left it: its id, and its conversation at
 * which history length and incarnation. A worker woken by it reads that conversation's turn input
 * while it takes (one round trip instead of two); the read is used only if the hop it took is that
 * one. Advisory: a marker without one, or one that does not parse, is a plain wake-up.
 */
export interface WakeHint {
  /** The hop's id in the lane. */
  hop: string;
  conversationId: string;
  historyLength: number;
  epoch?: string;
}

const WAKE_HINT_TAG = 'h1';

/** The marker text of a {@link WakeHint}: `h1 <hop> <conversation> <history length> [<epoch>]`. */
export function encodeWakeHint(hint: WakeHint): string {
  return [WAKE_HINT_TAG, hint.hop, hint.conversationId, String(hint.historyLength), ...(hint.epoch ? [hint.epoch] : [])].join(' ');
}

/** The {@link WakeHint} a wake-up marker carries; null for a plain marker or one that does not parse. */
export function parseWakeHint(marker: string): WakeHint | null {
  const [tag, hop, conversationId, length, epoch, ...rest] = marker.split(' ');
  const historyLength = Number(length);
  if (tag !== WAKE_HINT_TAG || !hop || !conversationId || !length || !Number.isSafeInteger(historyLength) || historyLength < 0 || rest.length > 0) return null;
  return epoch ? { hop, conversationId, historyLength, epoch } : { hop, conversationId, historyLength };
}

/** Wake-up markers a lane keeps at most: enough for every blocked worker of a large deployment, bounded when none runs. */
export const MAX_WAKE_MARKERS = 64;

/** Why a hop that stalled too often failed (BullMQ's words, which operators may know). */
export const STALLED_REASON = 'job stalled more than allowable limit';

// KEYS: wait, data, meta, leases, retry, failed, wake — the same seven for every script. Times
// are Redis's clock (TIME; scripts replicate their effects), never a caller's.
const LANE_HELPERS = `
local wait, data, meta, leases, retry, failed, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local function nowMs() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local function wakeOne(max, marker) if redis.call('LLEN', wake) < tonumber(max) then redis.call('LPUSH', wake, marker or '1') end end
local function forget(id)
  redis.call('HDEL', data, id)
  redis.call('HDEL', meta, id, id .. '|r', id .. '|f', id .. '|s', id .. '|o', id .. '|e')
  redis.call('ZREM', leases, id)
end
local function failHop(id, now, reason)
  redis.call('HSET', meta, id, 'failed', id .. '|e', reason)
  redis.call('HDEL', meta, id .. '|o')
  redis.call('ZADD', failed, now, id)
end
`;

/**
 * ARGV: id, payload, max markers, wake-up marker ('' for a plain one). The list first, the state
 * last: a push that fails half way (Redis refusing writes) leaves the hop without a state, so it
 * reads as not in the lane and is published again; a take drops an id without a state.
 */
const PUSH = `${LANE_HELPERS}
local id = ARGV[1]
if redis.call('HEXISTS', meta, id) == 1 then return 0 end
redis.call('LPUSH', wait, id)
redis.call('HSET', data, id, ARGV[2])
redis.call('HSET', meta, id, 'waiting')
wakeOne(ARGV[3], ARGV[4] ~= '' and ARGV[4] or nil)
return 1
`;

/**
 * ARGV: lease ms, token, max, max markers. Returns { {id, payload, runs, fails}… }, ms until the
 * next retry is due or false. An id without a state, or a state without a payload (a key lost to
 * eviction), is dropped with what is left of it: it then reads as not in the lane, and the
 * reconciler publishes its hop again. Hops left waiting wake another consumer.
 */
const TAKE = `${LANE_HELPERS}
local now = nowMs()
for _, id in ipairs(redis.call('ZRANGEBYSCORE', retry, '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', retry, id)
  redis.call('HSET', meta, id, 'waiting')
  redis.call('LPUSH', wait, id)
end
local out = {}
local max = tonumber(ARGV[3])
while #out < max do
  local id = redis.call('RPOP', wait)
  if not id then break end
  local payload = redis.call('HGET', data, id)
  local state = redis.call('HGET', meta, id)
  if not state or not payload then
    forget(id)
  elseif state == 'waiting' then
    local runs = redis.call('HINCRBY', meta, id .. '|r', 1)
    redis.call('HSET', meta, id, 'active', id .. '|o', ARGV[2] .. ':' .. runs)
    redis.call('ZADD', leases, now + tonumber(ARGV[1]), id)
    out[#out + 1] = { id, payload, runs, tonumber(redis.call('HGET', meta, id .. '|f') or '0') }
  end
end
if redis.call('LLEN', wait) > 0 then wakeOne(ARGV[4]) end
local nextDue = redis.call('ZRANGE', retry, 0, 0, 'WITHSCORES')
return { out, nextDue[2] and math.max(0, tonumber(nextDue[2]) - now) or false }
`;

/** ARGV: lease ms, then id, holder pairs. Returns the ids not held by that holder. */
const RENEW = `${LANE_HELPERS}
local deadline = nowMs() + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HGET', meta, id .. '|o') == ARGV[i + 1] then redis.call('ZADD', leases, 'XX', deadline, id) else lost[#lost + 1] = id end
end
return lost
`;

/** ARGV: holder, id. */
const FINISH = `${LANE_HELPERS}
if redis.call('HGET', meta, ARGV[2] .. '|o') ~= ARGV[1] then return 0 end
forget(ARGV[2])
return 1
`;

/** ARGV: holder, id, reason, attempts, retry in ms, max markers. Returns 1 retrying, 0 failed, -1 not held. */
const FAIL = `${LANE_HELPERS}
local id = ARGV[2]
if redis.call('HGET', meta, id .. '|o') ~= ARGV[1] then return -1 end
local now = nowMs()
redis.call('ZREM', leases, id)
local fails = redis.call('HINCRBY', meta, id .. '|f', 1)
if fails >= tonumber(ARGV[4]) then failHop(id, now, ARGV[3]) return 0 end
redis.call('HDEL', meta, id .. '|o')
redis.call('HSET', meta, id, 'retrying', id .. '|e', ARGV[3])
redis.call('ZADD', retry, now + tonumber(ARGV[5]), id)
wakeOne(ARGV[6])
return 1
`;

/** ARGV: holder, id, max markers. */
const RELEASE = `${LANE_HELPERS}
local id = ARGV[2]
if redis.call('HGET', meta, id .. '|o') ~= ARGV[1] then return 0 end
redis.call('ZREM', leases, id)
redis.call('HDEL', meta, id .. '|o')
redis.call('HSET', meta, id, 'waiting')
redis.call('RPUSH', wait, id)
wakeOne(ARGV[3])
return 1
`;

/** ARGV: max stalls, reason, max markers. Returns { requeued, failed }. */
const RECLAIM = `${LANE_HELPERS}
local now = nowMs()
local requeued, failedCount = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', leases, id)
  local stalls = redis.call('HINCRBY', meta, id .. '|s', 1)
  if stalls > tonumber(ARGV[1]) then
    failHop(id, now, ARGV[2])
    failedCount = failedCount + 1
  else
    redis.call('HDEL', meta, id .. '|o')
    redis.call('HSET', meta, id, 'waiting')
    redis.call('RPUSH', wait, id)
    wakeOne(ARGV[3])
    requeued = requeued + 1
  end
end
return { requeued, failedCount }
`;

/** ARGV: id, the state it must be in ('' for any but active). Returns 1 removed, 0 held, in another state, or absent. */
const REMOVE = `${LANE_HELPERS}
local id = ARGV[1]
local state = redis.call('HGET', meta, id)
if not state or state == 'active' then return 0 end
if ARGV[2] ~= '' and state ~= ARGV[2] then return 0 end
if state == 'waiting' then redis.call('LREM', wait, 0, id) end
redis.call('ZREM', retry, id)
redis.call('ZREM', failed, id)
forget(id)
return 1
`;

/** Returns { waiting, active, retrying, failed }. */
const COUNTS = `${LANE_HELPERS}
return { redis.call('LLEN', wait), redis.call('ZCARD', leases), redis.call('ZCARD', retry), redis.call('ZCARD', failed) }
`;

/** ARGV: limit. Returns { {id, payload, reason, fails, stalls}… }. */
const FAILED = `${LANE_HELPERS}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', failed, 0, tonumber(ARGV[1]) - 1)) do
  local m = redis.call('HMGET', meta, id .. '|e', id .. '|f', id .. '|s')
  out[#out + 1] = { id, redis.call('HGET', data, id) or false, m[1] or false, m[2] or false, m[3] or false }
end
return out
`;

type Keys7 = [string, string, string, string, string, string, string];
interface LaneScripts {
  handoffLanePush(...args: [...Keys7, string, string, number, string]): Promise<number>;
  handoffLaneTake(...args: [...Keys7, number, string, number, number]): Promise<[[string, string, number, number][], number | null | false]>;
  handoffLaneRenew(...args: [...Keys7, number, ...string[]]): Promise<string[]>;
  handoffLaneFinish(...args: [...Keys7, string, string]): Promise<number>;
  handoffLaneFail(...args: [...Keys7, string, string, string, number, number, number]): Promise<number>;
  handoffLaneRelease(...args: [...Keys7, string, string, number]): Promise<number>;
  handoffLaneReclaim(...args: [...Keys7, number, string, number]): Promise<[number, number]>;
  handoffLaneRemove(...args: [...Keys7, string, string]): Promise<number>;
  handoffLaneCounts(...args: Keys7): Promise<[number, number, number, number]>;
  handoffLaneFailed(...args: [...Keys7, number]): Promise<[string, string | null, string | null, string | null, string | null][]>;
}

const SCRIPTS: Record<keyof LaneScripts, string> = {
  handoffLanePush: PUSH,
  handoffLaneTake: TAKE,
  handoffLaneRenew: RENEW,
  handoffLaneFinish: FINISH,
  handoffLaneFail: FAIL,
  handoffLaneRelease: RELEASE,
  handoffLaneReclaim: RECLAIM,
  handoffLaneRemove: REMOVE,
  handoffLaneCounts: COUNTS,
  handoffLaneFailed: FAILED,
};

function defineLaneScripts(redis: RedisClient): void {
  const defined = redis as unknown as Partial<LaneScripts>;
  for (const [name, lua] of Object.entries(SCRIPTS) as [keyof LaneScripts, string][]) {
    if (!defined[name]) redis.defineCommand(name, { numberOfKeys: 7, lua });
  }
}
