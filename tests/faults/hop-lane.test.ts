import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOperationId } from '@handoff/core';
import { HopLane, MAX_WAKE_MARKERS, createRedisConnection, type RedisClient } from '@handoff/redis';
import { HopConsumer } from '@handoff/worker';
import { startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { underFault } from './support/crash-points.js';
import { waitFor } from './support/deployment.js';

const silent = pino({ level: 'silent' });
/** Short leases so that a dead holder's hop comes back within the test. */
const FAST = { concurrency: 2, leaseMs: 300, reclaimIntervalMs: 100, maxStalls: 20, backoffMs: 20, closeWaitMs: 200 };

/**
 * A worker's side of a hop lane under faults: its consumer's Redis link is cut (the reply lost,
 * ioredis re-sends) or frozen (the process dead) after each of its Redis commands — the reclaim,
 * the take, the blocking wait, the renewals, the finish, a failed run's retry. A healthy consumer
 * then serves the lane, as another replica would. Whatever the point, the hop runs to its end, and
 * then nothing of it is left in the lane: no hop is dropped, none is left held by a dead worker.
 */
describe('hop lane: a hop is never dropped or left held, whatever command the worker dies after', () => {
  let proxy: RedisFaultProxy;
  let direct: RedisClient;
  const prefix = uniquePrefix('lane-faults');

  beforeAll(async () => {
    proxy = await startRedisFaultProxy(redisUrl());
    direct = createRedisConnection(redisUrl(), 'command');
  });
  afterAll(async () => {
    direct?.disconnect();
    await proxy?.close();
  });

  for (const scenario of ['runs', 'throws once'] as const) {
    for (const mode of ['cut', 'freeze'] as RedisFaultMode[]) {
      it(`a hop that ${scenario}: ${mode === 'cut' ? 'a lost reply' : 'the worker dying'} after each of the consumer's Redis commands`, async () => {
        let k = 1;
        for (; k <= 40; k++) {
          const agent = `A${k}_${newOperationId().slice(3, 9)}`;
          const lane = new HopLane(direct, prefix, agent);
          const id = `hop-${mode}-${k}`;
          expect(await lane.push(id, JSON.stringify({ k }))).toBe(true);
          let started = 0;
          let finished = 0;
          const handler = async () => {
            started++;
            await new Promise((resolve) => setTimeout(resolve, 40));
            if (scenario === 'throws once' && started === 1) throw new Error('first run fails');
            finished++;
          };

          const connection = createRedisConnection(proxy.url, 'command');
          await (connection as unknown as { ping(): Promise<string> }).ping();
          const faulty = new HopConsumer(new HopLane(connection, prefix, agent), connection, handler, FAST, silent, 'faulty');
          let dead = false;
          const { fired } = await underFault(
            proxy,
            k,
            mode,
            async () => {
              faulty.start();
              // The consumer runs until its hop has left the lane, or it died (or 3 s).
              await waitFor(async () => dead || (await lane.state(id)) === 'unknown', 3_000, 'the faulty consumer').catch(() => undefined);
            },
            () => {
              dead = true;
              void faulty.close(0);
              connection.disconnect();
            },
          );
          if (process.env.LANE_DEBUG) console.log('fault', mode, k, fired, Date.now());
          await faulty.close(0);
          if (process.env.LANE_DEBUG) console.log('closed', Date.now());
          if (!fired) {
            // The fault came after the consumer's last command: the hop ran clean.
            expect(finished, `${mode} ${k}: ran without a fault`).toBe(1);
            break;
          }

          // Another replica serves the lane.
          const healthy = new HopConsumer(lane, direct, handler, FAST, silent, 'healthy');
          healthy.start();
          try {
            await waitFor(async () => (await lane.state(id)) === 'unknown', 10_000, `${mode} after command ${k} (${proxy.commands[k - 1]}): the hop to leave the lane`);
          } finally {
            await healthy.close(1_000);
          }
          const where = `${mode} after command ${k} (${proxy.commands[k - 1]})`;
          if (process.env.LANE_DEBUG) console.log(where, proxy.commands.join(" "));
          expect(finished, `${where}: the hop ran to its end`).toBeGreaterThanOrEqual(1);
          expect(await lane.counts(), where).toEqual({ waiting: 0, active: 0, retrying: 0, failed: 0 });
          expect(await direct.exists(lane.keys.data, lane.keys.meta, lane.keys.leases, lane.keys.retry, lane.keys.failed), `${where}: nothing of the hop is left`).toBe(0);
          expect(await direct.llen(lane.keys.wake), where).toBeLessThanOrEqual(MAX_WAKE_MARKERS);
        }
        expect(k, 'the consumer\'s commands were all covered').toBeGreaterThan(3);
      }, 180_000);
    }
  }
});
