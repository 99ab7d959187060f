import pino from 'pino';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresArchive } from '@handoff/archive';
import { SCHEMA_VERSION, commandJobId, keyLayout, newOperationId, type CoordinatorJob, type KeyLayout } from '@handoff/core';
import { Archiver, Coordinator, HealthView, Reconciler, Routers } from '@handoff/gateway';
import { ConversationStore, EventLog, QueueSet, createRedisConnection, registerNetwork, type RedisClient } from '@handoff/redis';
import { startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { archivedRows, startTestPostgres, uniqueTable, type TestPostgres } from '../support/archive.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { CRASH_NETWORK, startCommand, turnResult, underFault } from './support/crash-points.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A gateway's coordinator with the archive on, everything on one connection (direct, or through the fault proxy). */
async function archivingCoordinator(url: string, keys: KeyLayout): Promise<{ coordinator: Coordinator; connection: RedisClient; store: ConversationStore; queues: QueueSet; close(): void }> {
  const connection = createRedisConnection(url, 'command');
  await (connection as Redis).ping();
  const store = new ConversationStore(connection, keys);
  const queues = new QueueSet(connection, keys.prefix);
  const health = new HealthView(connection, keys, 0);
  const coordinator = new Coordinator({ network: CRASH_NETWORK, store, events: new EventLog(connection, keys), queues, logger, redis: connection, keys, health, routers: new Routers(CRASH_NETWORK, connection, keys, queues, health), archiving: true });
  return {
    coordinator,
    connection,
    store,
    queues,
    close() {
      void queues.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

/** A step that ends a running conversation: its job, from a fresh conversation brought to where it applies. */
type EndingStep = (id: string) => Promise<{ payload: CoordinatorJob; jobId: string }>;

/**
 * Crash points of the steps that end a conversation, with the archive on: after the k-th Redis
 * command of the step (for every k), the link is frozen for good (the gateway dies there) or cut
 * once (a lost reply). Whatever the recovery a deployment gives — the job delivered again, or
 * (failed for good) settled by the failure sweeper — plus one reconciler round, the finished
 * conversation must reach the archive: one archiver round writes it to PostgreSQL. No crash point
 * between the end's apply and the pending-archive write loses it.
 */
describe('crash points between a conversation\'s end and its archive entry', () => {
  const prefix = uniquePrefix('archive-crash');
  const keys = keyLayout(prefix);
  const table = uniqueTable('crash');
  let postgres: TestPostgres;
  let archive: PostgresArchive;
  let proxy: RedisFaultProxy;
  let redis: Redis;
  let healthy: Awaited<ReturnType<typeof archivingCoordinator>>;
  const checked: string[] = [];

  beforeAll(async () => {
    postgres = await startTestPostgres();
    archive = new PostgresArchive({ url: postgres.server.url, table });
    proxy = await startRedisFaultProxy(redisUrl());
    redis = new Redis(redisUrl());
    await registerNetwork(redis, keys, CRASH_NETWORK);
    for (const agent of CRASH_NETWORK.agentNames) await redis.zadd(keys.workers(agent), Date.now() + 3_600_000, 'crash-test-worker');
    healthy = await archivingCoordinator(redisUrl(), keys);
  });
  afterAll(async () => {
    console.log(`archive crash points checked: ${checked.join(', ')}`);
    healthy?.close();
    await proxy?.close();
    await archive?.close();
    await postgres?.close();
    redis?.disconnect();
  });

  /** Starts `id` through the healthy coordinator. */
  async function started(id: string) {
    const { payload, jobId } = await startCommand({ redis, keys } as never, id);
    await healthy.coordinator.handle(payload, jobId);
    return (await healthy.store.read(id))!;
  }

  const STEPS: Record<string, EndingStep> = {
    'final turn': async (id) => {
      const record = await started(id);
      const turn = turnResult(record, 1, 'A', { type: 'final', output: `the answer for ${id}` });
      return { payload: turn, jobId: `${turn.hopId}.turn` };
    },
    'cancel of a running conversation': async (id) => {
      await started(id);
      const operationId = newOperationId();
      return { payload: { schemaVersion: SCHEMA_VERSION, kind: 'cancel', conversationId: id, operationId, createdAt: Date.now() } as CoordinatorJob, jobId: commandJobId(id, 'cancel', operationId) };
    },
  };

  /** Runs the step with a fault after its k-th Redis command; false when the step has fewer commands. */
  async function run(step: EndingStep, mode: RedisFaultMode, k: number, redeliver: boolean, label: string): Promise<boolean> {
    const id = `ac_${k}_${mode}_${newOperationId().slice(3, 11)}`;
    const { payload, jobId } = await step(id);
    const faulty = await archivingCoordinator(proxy.url, keys);
    const { fired: didFire, threw } = await underFault(proxy, k, mode, () => faulty.coordinator.handle(payload, jobId), () => faulty.close());
    if (!didFire) return false;
    // Recovery: the job again (a new process takes it), or — failed for good — the failure sweeper's settling.
    if (redeliver && (mode === 'freeze' || threw)) await healthy.coordinator.handle(payload, jobId);
    if (!redeliver) await healthy.coordinator.settleFailedJob(payload, { code: 'HOP_FAILED', message: 'failed for good (crash test)', retryable: true });
    // Then time passes: a reconciler round, and an archiver round.
    const later = Date.now() + 3_600_000;
    await new Reconciler({ network: CRASH_NETWORK, store: healthy.store, events: new EventLog(healthy.connection, keys), queues: healthy.queues, redis: healthy.connection, keys, health: new HealthView(healthy.connection, keys, 0), coordinator: healthy.coordinator, logger, archiving: true }).runOnce(later);
    const record = await healthy.store.read(id);
    if (record?.status !== 'completed' && record?.status !== 'cancelled') {
      // The end never applied (its job failed for good before it): nothing to archive, and it must not be stalled either.
      expect(redeliver, `${label}, ${mode} after command ${k}: status ${record?.status}`).toBe(false);
      return true;
    }
    await new Archiver({ archive, store: healthy.store, events: new EventLog(healthy.connection, keys), redis: healthy.connection, keys, logger }, { keepSeconds: 60 }).runOnce(later);
    const row = (await archivedRows(postgres.sql, table, [id])).get(id);
    expect(row?.status, `${label}, ${mode} after command ${k} (${proxy.commands[k - 1] ?? '?'})${redeliver ? '' : ', no redelivery'}: archived`).toBe(record.status);
    expect(row?.version).toBe(record.version);
    return true;
  }

  for (const [label, step] of Object.entries(STEPS)) {
    for (const [mode, redeliver] of [['freeze', true], ['cut', true], ['freeze', false]] as [RedisFaultMode, boolean][]) {
      it(`${label}: ${mode === 'freeze' ? 'the gateway dying' : 'a lost reply'} after each of its Redis commands${redeliver ? '' : ', its job never delivered again'}: archived`, async () => {
        let k = 1;
        for (; k <= 60 && (await run(step, mode, k, redeliver, label)); k++);
        checked.push(`${label}/${mode}${redeliver ? '' : '/no-redelivery'} ${k - 1}`);
        expect(k).toBeGreaterThan(3);
        expect(k).toBeLessThanOrEqual(60);
      }, 180_000);
    }
  }
});
