import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresArchive } from '@handoff/archive';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { keyLayout } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { TcpRelay, hasTool, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import { archivedRows, startTestPostgres, uniqueTable, type TestPostgres } from '../support/archive.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { triageBillingNetwork } from '../support/network-builders.js';

const ANSWER = 'Refunded.';
const KEEP_SECONDS = 30;
const SIX_DAYS = 6 * 24 * 3600;

/**
 * The archive is crash-safe: while PostgreSQL is unreachable (the gateway's connections go
 * through a relay the test closes — every connection cut, the port refusing), conversations that
 * end are not lost — they stay in the pending-archive index, their Redis keys keep the normal
 * retention — and once PostgreSQL is back every one of them is archived. An end whose
 * pending-archive write never happened (the process died right after the end applied) is found
 * by the reconciler in its in-flight index and archived too.
 */
describe('archive while PostgreSQL is down, and after a crash before the index write', () => {
  const prefix = uniquePrefix('archive-outage');
  const keys = keyLayout(prefix);
  const table = uniqueTable('outage');
  let postgres: TestPostgres;
  let relay: TcpRelay;
  let archive: PostgresArchive;
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: WorkerGroup;
  let client: RedisHandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    postgres = await startTestPostgres();
    const target = new URL(postgres.server.url);
    relay = await TcpRelay.start({ host: target.hostname, port: Number(target.port) });
    archive = new PostgresArchive({ url: relay.rewrite(postgres.server.url), table, connectTimeoutMs: 1_000 });
    model = await startScriptedModel({
      rules: [
        { when: hasTool('transfer_to_Billing'), reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: { reason: 'billing' } }] } },
        { when: systemIncludes('You are Billing.'), reply: { content: ANSWER } },
      ],
    });
    const network = triageBillingNetwork(model.url);
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const config = { url: redisUrl(), prefix };
    gateway = await startGateway({ network, redis: config, logger, archive: { store: archive, keepSeconds: KEEP_SECONDS, intervalMs: 100 }, reconcileIntervalMs: 3_600_000 });
    workers = await startWorkers({ network, redis: config, logger });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    client = createClient({ redis: config });
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([workers?.close(), gateway?.close()]);
    await archive?.close();
    await relay?.close();
    await model?.close();
    await postgres?.close();
    redis?.disconnect();
  });

  async function finish(count: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const conversation = await client.start({ agent: 'Triage', input: `${label} ${i}` });
      expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: ANSWER });
      ids.push(conversation.id);
    }
    return ids;
  }

  it('loses nothing while PostgreSQL is down, and archives every conversation once it is back', async () => {
    await relay.close();
    const ids = await finish(4, 'during the outage');
    // Rounds keep trying and failing meanwhile.
    await vi.waitFor(async () => expect(await gateway.metrics.text()).toMatch(/handoff_archive_tries_total\{outcome="failed"\} ([3-9]|\d\d+)/), { timeout: 15_000, interval: 100 });
    expect((await archivedRows(postgres.sql, table, ids)).size).toBe(0);
    expect((await redis.zrange(keys.archivePending, 0, -1)).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(await redis.ttl(keys.conversation(id)), id).toBeGreaterThan(SIX_DAYS);
      expect(await redis.ttl(keys.history(id)), id).toBeGreaterThan(SIX_DAYS);
    }

    await relay.open();
    await vi.waitFor(async () => expect((await archivedRows(postgres.sql, table, ids)).size).toBe(ids.length), { timeout: 30_000, interval: 200 });
    await vi.waitFor(async () => expect(await redis.zcard(keys.archivePending)).toBe(0), { timeout: 10_000, interval: 100 });
    const rows = await archivedRows(postgres.sql, table, ids);
    for (const id of ids) {
      expect(rows.get(id)?.record).toMatchObject({ status: 'completed', output: ANSWER });
      expect(rows.get(id)?.events.at(-1)?.type).toBe('conversation.completed');
      expect(await redis.ttl(keys.conversation(id)), id).toBeLessThanOrEqual(KEEP_SECONDS);
    }
    expect(await gateway.metrics.text()).toMatch(/handoff_archive_tries_total\{outcome="archived"\} ([4-9]|\d\d+)/);
  });

  it('a crash after the write and before the TTL step leaves the entry: it is archived again, harmlessly, and its TTL shortened', async () => {
    const [id] = await finish(1, 'save twice');
    await vi.waitFor(async () => expect((await archivedRows(postgres.sql, table, [id!])).size).toBe(1), { timeout: 15_000, interval: 100 });
    await vi.waitFor(async () => expect(await redis.zcard(keys.archivePending)).toBe(0), { timeout: 10_000, interval: 100 });
    // As if the process died after the write and before the TTL step: the entry is there again, the keys as before.
    await redis.expire(keys.conversation(id!), 7 * 24 * 3600);
    await redis.zadd(keys.archivePending, 0, id!);
    await vi.waitFor(async () => expect(await redis.zcard(keys.archivePending)).toBe(0), { timeout: 10_000, interval: 100 });
    expect(await redis.ttl(keys.conversation(id!))).toBeLessThanOrEqual(KEEP_SECONDS);
    expect((await postgres.sql.query(`SELECT count(*)::int AS n FROM ${table} WHERE conversation_id = $1`, [id])).rows[0]).toEqual({ n: 1 });
  });

  it('archives an end whose pending-archive write never happened: the reconciler finds it in flight', async () => {
    await relay.close();
    const [id] = await finish(1, 'crash after the end');
    await vi.waitFor(async () => expect(await redis.zscore(keys.archivePending, id!)).not.toBeNull(), { timeout: 5_000, interval: 50 });
    // The state a crash right after the end's apply leaves: the conversation still in the in-flight
    // index (written before its last running step), and no pending-archive entry. The archiver's
    // rounds are held meanwhile, so none that read the entry before it went saves it afterwards.
    await gateway.archiver!.stop();
    await redis.zrem(keys.archivePending, id!);
    await redis.zadd(keys.inFlight, 0, id!);
    gateway.archiver!.start();
    await relay.open();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await archivedRows(postgres.sql, table, [id!])).size).toBe(0); // nothing queued it: nothing is archived
    const report = await gateway.reconciler.runOnce();
    expect(report.checked).toBe(0); // ended: nothing to repair, only queued for the archive
    expect(await redis.zscore(keys.inFlight, id!)).toBeNull();
    await vi.waitFor(async () => expect((await archivedRows(postgres.sql, table, [id!])).get(id!)?.status).toBe('completed'), { timeout: 15_000, interval: 100 });
    await vi.waitFor(async () => expect(await redis.ttl(keys.conversation(id!))).toBeLessThanOrEqual(KEEP_SECONDS), { timeout: 10_000, interval: 100 });
  });
});
