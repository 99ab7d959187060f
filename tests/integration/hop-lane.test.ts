import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pino from 'pino';
import { HopLane, STALLED_REASON, encodeWakeHint, parseWakeHint, type TakenHop, type WakeHint } from '@handoff/redis';
import { HopConsumer } from '@handoff/worker';
import { redisUrl, uniquePrefix } from '../support/env.js';

const silent = pino({ level: 'silent' });

/** Polls until `check` holds (bounded). */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The hop lane: an agent's queue of hops in plain Redis structures of the agent's slot. Each step
 * is checked against the state it leaves — FIFO, one holder, leases that run out, retries, the
 * stall limit, removal — and a consumer's wake-up, drain and hand-back.
 */
describe('hop lane', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 5 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  const laneOf = (label: string) => new HopLane(redis, uniquePrefix(label), 'Agent');

  it('queues each id once, first in first out, and keeps every key in the agent slot', async () => {
    const lane = laneOf('lane-fifo');
    expect(await lane.push('h1', '{"n":1}')).toBe(true);
    expect(await lane.push('h2', '{"n":2}')).toBe(true);
    expect(await lane.push('h1', '{"n":"again"}')).toBe(false);
    expect(await lane.counts()).toEqual({ waiting: 2, active: 0, retrying: 0, failed: 0 });
    const { hops } = await lane.take('w1', 60_000, 5);
    expect(hops).toEqual([
      { id: 'h1', payload: '{"n":1}', runs: 1, fails: 0, holder: 'w1:1' },
      { id: 'h2', payload: '{"n":2}', runs: 1, fails: 0, holder: 'w1:1' },
    ]);
    expect(await lane.state('h1')).toBe('active');
    expect(await lane.holder('h1')).toBe('w1');
    // A second taker finds nothing; a held hop cannot be removed.
    expect((await lane.take('w2', 60_000, 5)).hops).toEqual([]);
    expect(await lane.remove('h1')).toBe(0);
    // Only the holder finishes it; then nothing of it is left.
    expect(await lane.finish('w2:1', 'h1')).toBe(false);
    expect(await lane.finish('w1:1', 'h1')).toBe(true);
    expect(await lane.state('h1')).toBe('unknown');
    expect(await lane.finish('w1:1', 'h2')).toBe(true);
    expect(new Set(Object.values(lane.keys).map(hashTag))).toEqual(new Set(['agent.Agent']));
    const left = await Promise.all([lane.keys.data, lane.keys.meta, lane.keys.leases, lane.keys.wait].map((key) => redis.exists(key)));
    expect(left).toEqual([0, 0, 0, 0]);
  });

  it('puts back a hop whose lease ran out, counting a stall, and fails it past the stall limit', async () => {
    const lane = laneOf('lane-stall');
    await lane.push('h1', 'p');
    expect((await lane.take('dead', 1, 1)).hops).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await lane.reclaim(1)).toEqual({ requeued: 1, failed: 0 });
    expect(await lane.state('h1')).toBe('waiting');
    // The dead holder's late finish does nothing; the next taker sees its second run.
    expect(await lane.finish('dead:1', 'h1')).toBe(false);
    const [again] = (await lane.take('w2', 1, 1)).hops;
    expect(again).toEqual({ id: 'h1', payload: 'p', runs: 2, fails: 0, holder: 'w2:2' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await lane.reclaim(1)).toEqual({ requeued: 0, failed: 1 });
    expect(await lane.state('h1')).toBe('failed');
    expect(await lane.failedHops(10)).toEqual([{ id: 'h1', payload: 'p', reason: STALLED_REASON, fails: 0, stalls: 2 }]);
    expect(await lane.remove('h1')).toBe(1);
    expect(await lane.counts()).toEqual({ waiting: 0, active: 0, retrying: 0, failed: 0 });
  });

  it('retries a failed run after its backoff, and fails the hop on its last attempt', async () => {
    const lane = laneOf('lane-retry');
    await lane.push('h1', 'p');
    await lane.take('w', 60_000, 1);
    expect(await lane.fail('other:1', 'h1', 'boom', 2, 0)).toBe('not-held');
    expect(await lane.fail('w:1', 'h1', 'boom', 2, 150)).toBe('retrying');
    expect(await lane.state('h1')).toBe('retrying');
    const early = await lane.take('w', 60_000, 1);
    expect(early.hops).toEqual([]);
    expect(early.nextRetryInMs).toBeGreaterThan(0);
    expect(early.nextRetryInMs).toBeLessThanOrEqual(150);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [retried] = (await lane.take('w', 60_000, 1)).hops;
    expect(retried).toEqual({ id: 'h1', payload: 'p', runs: 2, fails: 1, holder: 'w:2' });
    expect(await lane.fail('w:2', 'h1', 'boom again', 2, 0)).toBe('failed');
    expect(await lane.failedHops(10)).toEqual([{ id: 'h1', payload: 'p', reason: 'boom again', fails: 2, stalls: 0 }]);
  });

  it('renews only leases its holder still has, and hands a hop back to the front untouched', async () => {
    const lane = laneOf('lane-renew');
    await lane.push('h1', 'p1');
    await lane.push('h2', 'p2');
    await lane.take('w', 60_000, 1);
    expect(await lane.renew(60_000, [{ id: 'h1', holder: 'w:1' }, { id: 'h9', holder: 'w:1' }])).toEqual(['h9']);
    expect(await lane.release('w:1', 'h1')).toBe(true);
    // h1 is taken before h2 again, and the hand-back is a run but not a failure.
    expect((await lane.take('w', 60_000, 1)).hops).toEqual([{ id: 'h1', payload: 'p1', runs: 2, fails: 0, holder: 'w:2' }]);
    // The first run of h1, late, can neither renew, finish, fail nor release the second run's lease.
    expect(await lane.renew(60_000, [{ id: 'h1', holder: 'w:1' }])).toEqual(['h1']);
    expect(await lane.finish('w:1', 'h1')).toBe(false);
    expect(await lane.fail('w:1', 'h1', 'late', 5, 0)).toBe('not-held');
    expect(await lane.release('w:1', 'h1')).toBe(false);
    expect(await lane.state('h1')).toBe('active');
    // A removal bound to a state leaves a hop in another state alone.
    expect(await lane.remove('h2', 'failed')).toBe(0);
    expect(await lane.remove('h2')).toBe(1);
    expect(await lane.waitingIds()).toEqual([]);
  });

  it('drops a waiting id whose payload is gone (a key lost to eviction), so that it reads as not in the lane', async () => {
    const lane = laneOf('lane-lost-payload');
    await lane.push('h1', 'p');
    await redis.hdel(lane.keys.data, 'h1');
    expect((await lane.take('w', 60_000, 1)).hops).toEqual([]);
    expect(await lane.state('h1')).toBe('unknown');
    expect(await lane.push('h1', 'p again')).toBe(true);
  });

  it('a consumer retries a run that throws, tells its last failed attempt, and leaves the hop failed for the sweep', async () => {
    const lane = laneOf('lane-last-attempt');
    const runs: TakenHop[] = [];
    const told: { hop: TakenHop; error: unknown }[] = [];
    const consumer = new HopConsumer(
      lane,
      redis,
      async (hop) => {
        runs.push(hop);
        throw new Error(`run ${hop.runs} broke`);
      },
      { concurrency: 1, leaseMs: 60_000, reclaimIntervalMs: 60_000, maxStalls: 1, attempts: 2, backoffMs: 20, lastAttemptFailed: async (hop, error) => void told.push({ hop, error }) },
      silent,
      'test-worker',
    );
    consumer.start();
    await lane.push('h1', 'p');
    await until(async () => (await lane.state('h1')) === 'failed', 'the hop to fail for good');
    await consumer.close(0);
    expect(runs.map((hop) => [hop.runs, hop.fails])).toEqual([[1, 0], [2, 1]]);
    expect(told).toHaveLength(1);
    expect(told[0]!.hop).toMatchObject({ id: 'h1', runs: 2, fails: 1 });
    expect((told[0]!.error as Error).message).toBe('run 2 broke');
    expect(await lane.failedHops(10)).toEqual([{ id: 'h1', payload: 'p', reason: 'run 2 broke', fails: 2, stalls: 0 }]);
  });

  it('a consumer wakes on a push, renews while a run lasts, and hands back what is still running when it closes', async () => {
    const lane = laneOf('lane-consumer');
    const seen: TakenHop[] = [];
    let releaseRun: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (releaseRun = resolve));
    const consumer = new HopConsumer(
      lane,
      redis,
      async (hop, signal) => {
        seen.push(hop);
        if (hop.id === 'slow') await Promise.race([blocked, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))]);
      },
      { concurrency: 2, leaseMs: 300, reclaimIntervalMs: 100, maxStalls: 1 },
      silent,
      'test-worker',
    );
    consumer.start();
    await consumer.readyPromise;
    // Blocked on the wake-up list: a push is taken at once, and its lane entry is gone once it ran.
    await lane.push('quick', 'q');
    await until(async () => (await lane.state('quick')) === 'unknown' && seen.length === 1, 'the quick hop to run');
    await lane.push('slow', 's');
    await until(() => seen.length === 2, 'the slow hop to start');
    // Longer than its lease: renewal keeps it held, and the reclaim never puts it back.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await lane.state('slow')).toBe('active');
    expect(seen.map((h) => h.id)).toEqual(['quick', 'slow']);
    // Closing with a 50 ms drain: the running hop is handed back, a second run not a failure.
    await consumer.close(50);
    expect(await lane.state('slow')).toBe('waiting');
    expect((await lane.take('next', 60_000, 1)).hops).toEqual([{ id: 'slow', payload: 's', runs: 2, fails: 0, holder: 'next:2' }]);
    releaseRun();
  });

  it('a push leaves a wake-up naming its hop\'s conversation, which a woken consumer is told before it takes the hop', async () => {
    const lane = laneOf('lane-hint');
    const hint = { conversationId: 'c_hinted', historyLength: 7, epoch: 'e9' };
    // The marker itself: the hint's text (naming the hop) for a hinted push, a plain one without.
    await lane.push('plain', 'p');
    await lane.push('hinted', 'h', hint);
    expect(await redis.lrange(lane.keys.wake, 0, -1)).toEqual([encodeWakeHint({ ...hint, hop: 'hinted' }), '1']);
    await redis.del(lane.keys.wake);
    await lane.remove('plain');
    await lane.remove('hinted');

    const told: string[] = [];
    const consumer = new HopConsumer(
      lane,
      redis,
      async (hop) => {
        told.push(`ran ${hop.id}`);
      },
      { concurrency: 1, leaseMs: 5_000, reclaimIntervalMs: 60_000, maxStalls: 1, woken: (woke) => told.push(`woken ${JSON.stringify(woke)}`) },
      silent,
      'test-worker',
    );
    consumer.start();
    await consumer.readyPromise;
    await lane.push('h-next', 'n', hint);
    await until(() => told.length === 2, 'the woken consumer to run the hop');
    expect(told).toEqual([`woken ${JSON.stringify({ hop: 'h-next', ...hint })}`, 'ran h-next']);
    await consumer.close(1_000);
  });

  it('reads a wake-up hint back as written, and a plain or garbled marker as none', () => {
    const hints: WakeHint[] = [
      { hop: 'c_a.h1', conversationId: 'c_a', historyLength: 0 },
      { hop: 'c_b.h4.x1y2', conversationId: 'c_b', historyLength: 12, epoch: 'x1y2' },
    ];
    for (const hint of hints) expect(parseWakeHint(encodeWakeHint(hint))).toEqual(hint);
    for (const marker of ['1', '', 'h1', 'h1 c_a.h1 c_a', 'h1 c_a.h1 c_a -1', 'h1 c_a.h1 c_a 2.5', 'h1 c_a.h1 c_a x', 'h2 c_a.h1 c_a 3', 'h1 c_a.h1 c_a 3 e extra']) {
      expect(parseWakeHint(marker), marker).toBeNull();
    }
  });
});

/** The hash tag of a key: what Redis Cluster hashes to pick its slot. */
function hashTag(key: string): string {
  return /\{([^}]+)\}/.exec(key)?.[1] ?? key;
}
