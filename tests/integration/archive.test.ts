import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresArchive } from '@handoff/archive';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { keyLayout, type StoredEvent } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { readFinishedConversation, shortenArchivedRetention, ConversationStore, EventLog } from '@handoff/redis';
import { ManagedProcess, hasTool, lastUserText, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import { archivedRows, startTestPostgres, uniqueTable, type TestPostgres } from '../support/archive.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { triageBillingNetwork } from '../support/network-builders.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

const ANSWER = 'Your duplicate charge is refunded today.';
const FOLLOW_UP = 'and what about last month?';
const FOLLOW_UP_ANSWER = 'Last month was billed once, nothing to refund there; this answer streams slowly.';
const KEEP_SECONDS = 40;

async function collect(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** The Server-Sent Events of a finished response body: `{ id, event, data }` each. */
function parseSse(body: string): { id: string; event: string; data: Record<string, unknown> }[] {
  return body
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
    });
}

/**
 * The archive of finished conversations against a real PostgreSQL (a private server the test
 * starts) and a real Redis: every conversation that ends is written there with its record,
 * history and events, its Redis keys then expire within the keep period, and once they are gone
 * it is still read by id — over HTTP (status, an event replay that ends), through the Redis
 * client, and with `handoff inspect`.
 */
describe('archive of finished conversations (PostgreSQL)', () => {
  const prefix = uniquePrefix('archive');
  const keys = keyLayout(prefix);
  const table = uniqueTable('archive');
  let postgres: TestPostgres;
  let archive: PostgresArchive;
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: WorkerGroup;
  let client: RedisHandoffClient;
  let plainClient: RedisHandoffClient;
  let redis: Redis;
  let baseUrl: string;

  beforeAll(async () => {
    postgres = await startTestPostgres();
    archive = new PostgresArchive({ url: postgres.server.url, table });
    model = await startScriptedModel({
      rules: [
        { when: hasTool('transfer_to_Billing'), reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: { reason: 'billing question' } }] } },
        { when: (req) => systemIncludes('You are Billing.')(req) && lastUserText(req) === FOLLOW_UP, reply: { content: FOLLOW_UP_ANSWER, chunkDelayMs: 150 } },
        { when: systemIncludes('You are Billing.'), reply: { content: ANSWER } },
      ],
    });
    const network = triageBillingNetwork(model.url);
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const config = { url: redisUrl(), prefix };
    gateway = await startGateway({ network, redis: config, logger, archive: { store: archive, keepSeconds: KEEP_SECONDS, intervalMs: 100 }, http: { port: 0, host: '127.0.0.1', auth: false } });
    workers = await startWorkers({ network, redis: config, logger });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    client = createClient({ redis: config, archive });
    plainClient = createClient({ redis: config });
    redis = new Redis(redisUrl());
    baseUrl = `http://127.0.0.1:${gateway.http!.port}`;
  });
  afterAll(async () => {
    await client?.close();
    await plainClient?.close();
    await Promise.all([workers?.close(), gateway?.close()]);
    await archive?.close();
    await model?.close();
    await postgres?.close();
    redis?.disconnect();
  });

  /** Waits until the archive has a row of each conversation at its current version and the pending index is empty. */
  async function waitArchived(ids: readonly string[]) {
    await vi.waitFor(
      async () => {
        const rows = await archivedRows(postgres.sql, table, ids);
        for (const id of ids) expect(rows.get(id)?.version, id).toBe((await client.conversation(id).status()).version);
        expect(await redis.zcard(keys.archivePending)).toBe(0);
      },
      { timeout: 20_000, interval: 100 },
    );
    return archivedRows(postgres.sql, table, ids);
  }

  it('writes every finished conversation to PostgreSQL — record, history, events — and shortens its Redis retention', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const conversation = await client.start({ agent: 'Triage', input: `I was charged twice (${i})` });
      expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: ANSWER });
      ids.push(conversation.id);
    }
    const rows = await waitArchived(ids);
    for (const id of ids) {
      const row = rows.get(id)!;
      expect(row.status).toBe('completed');
      expect(row.record).toMatchObject({ status: 'completed', output: ANSWER, path: ['Triage', 'Billing'] });
      expect(row.history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      expect(row.history.at(-1)).toMatchObject({ role: 'assistant', content: ANSWER });
      expect(row.events.map((e) => e.type)).toEqual(['conversation.started', 'agent.started', 'tool.called', 'tool.result', 'agent.completed', 'handoff', 'agent.started', 'text.delta', 'agent.completed', 'conversation.completed']);
      expect(row.events.find((e) => e.type === 'text.delta')?.text).toBe(ANSWER);
      // What Redis still keeps of it now expires within the keep period (it was 7 days for the record, 1 day for the log).
      for (const key of [keys.conversation(id), keys.history(id), keys.finishedEvents(id)]) {
        const ttl = await redis.ttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(KEEP_SECONDS);
      }
    }
    const sizes = await postgres.sql.query<{ row: number; record: number; history: number; events: number }>(
      `SELECT pg_column_size(t.*) AS row, pg_column_size(record) AS record, pg_column_size(history) AS history, pg_column_size(events) AS events FROM ${table} t WHERE conversation_id = $1`,
      [ids[0]],
    );
    console.info(`archived 2-hop conversation with a one-line answer: ${JSON.stringify(sizes.rows[0])} bytes`);
    const indexes = (await postgres.sql.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [table])).rows.map((r) => r.indexname);
    expect(indexes).toEqual([`${table}_ended_at_idx`, `${table}_pkey`, `${table}_status_idx`]);
  });

  it('reads a conversation that left Redis from the archive: HTTP status and events, the Redis client, handoff inspect', async () => {
    const conversation = await client.start({ agent: 'Triage', input: 'My invoice is wrong' });
    await conversation.result({ timeoutMs: 15_000 });
    const live = await collect(conversation.events({ timeoutMs: 5_000 }));
    await waitArchived([conversation.id]);
    // It leaves Redis (as its keys would after the keep period).
    await redis.del(keys.conversation(conversation.id), keys.history(conversation.id), keys.finishedEvents(conversation.id), keys.events(conversation.id), keys.ops(conversation.id));
    expect(await redis.exists(keys.conversation(conversation.id))).toBe(0);

    // HTTP: the status, and an event replay that ends after the terminal event.
    const status = await fetch(`${baseUrl}/v1/conversations/${conversation.id}`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ conversationId: conversation.id, status: 'completed', output: ANSWER, path: ['Triage', 'Billing'] });
    const stream = await fetch(`${baseUrl}/v1/conversations/${conversation.id}/events`, { signal: AbortSignal.timeout(10_000) });
    expect(stream.status).toBe(200);
    const sse = parseSse(await stream.text()); // resolves only because the stream ends
    expect(sse.map((e) => e.id)).toEqual(live.map((e) => e.id));
    expect(sse.at(-1)).toMatchObject({ event: 'conversation.completed', data: { result: { status: 'completed', output: ANSWER } } });
    const resumed = parseSse(await (await fetch(`${baseUrl}/v1/conversations/${conversation.id}/events`, { headers: { 'last-event-id': live[5]!.id }, signal: AbortSignal.timeout(10_000) })).text());
    expect(resumed.map((e) => e.id)).toEqual(live.slice(6).map((e) => e.id));
    const result = await fetch(`${baseUrl}/v1/conversations/${conversation.id}/result?waitMs=1000`);
    expect(await result.json()).toMatchObject({ status: 'completed', output: ANSWER });

    // The Redis client with the archive: status, result and events; without it, not found as before.
    const handle = client.conversation(conversation.id);
    expect(await handle.status()).toMatchObject({ status: 'completed', output: ANSWER });
    expect(await handle.result({ timeoutMs: 2_000 })).toMatchObject({ status: 'completed', output: ANSWER, path: ['Triage', 'Billing'] });
    expect((await collect(handle.events({ timeoutMs: 5_000 }))).map((e) => e.id)).toEqual(live.map((e) => e.id));
    expect((await collect(handle.events({ after: live[7]!.id, timeoutMs: 5_000 }))).map((e) => e.type)).toEqual(['agent.completed', 'conversation.completed']);
    await expect(plainClient.conversation(conversation.id).status()).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
    expect((await fetch(`${baseUrl}/v1/conversations/c_never_was`)).status).toBe(404);

    // handoff inspect, the built CLI as a child process.
    const inspect = async (args: string[]) => {
      const child = await ManagedProcess.start({ name: 'handoff inspect', command: process.execPath, args: [HANDOFF_BIN, 'inspect', conversation.id, '--redis-url', redisUrl(), '--prefix', prefix, ...args], cwd: REPO_ROOT, env: { LOG_LEVEL: 'warn' } });
      const exit = await child.exited;
      return { code: exit.code, out: child.lines.join('\n') };
    };
    const text = await inspect(['--archive-url', postgres.server.url, '--archive-table', table]);
    expect(text.code, text.out).toBe(0);
    expect(text.out).toMatch(/source {3}archive/);
    expect(text.out).toMatch(/status {3}completed \(final_output\)/);
    expect(text.out).toMatch(/path {5}Triage → Billing/);
    expect(text.out).toContain(ANSWER);
    const json = await inspect(['--archive-url', postgres.server.url, '--archive-table', table, '--json']);
    expect((JSON.parse(json.out) as { events: { id: string }[] }).events.map((e) => e.id)).toEqual(live.map((e) => e.id));
    const withoutArchive = await inspect([]);
    expect(withoutArchive.code).toBe(2);
    expect(withoutArchive.out).toMatch(/CONVERSATION_NOT_FOUND/);
    const badTable = await inspect(['--archive-url', postgres.server.url, '--archive-table', 'x; DROP TABLE y']);
    expect(badTable.code).toBe(2);
    expect(badTable.out).toMatch(/--archive-table/);
  });

  it('archives a revived conversation again with its new history, and never cuts its keys while it runs', async () => {
    const conversation = await client.start({ agent: 'Triage', input: 'Charged twice again' });
    await conversation.result({ timeoutMs: 15_000 });
    const first = (await waitArchived([conversation.id])).get(conversation.id)!;
    expect(await redis.ttl(keys.conversation(conversation.id))).toBeLessThanOrEqual(KEEP_SECONDS);

    // A follow-up revives it: while it runs again its keys are kept (no TTL), whatever the archiver does.
    await conversation.send(FOLLOW_UP);
    await vi.waitFor(async () => expect((await conversation.status()).status).toBe('running'), { timeout: 10_000, interval: 10 });
    for (const key of [keys.conversation(conversation.id), keys.history(conversation.id)]) expect(await redis.ttl(key), key).toBe(-1);
    await gateway.archiver!.runOnce();
    expect(await redis.ttl(keys.conversation(conversation.id))).toBe(-1);

    // Its next end is archived again: the same row, a later version, the new history and events.
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: FOLLOW_UP_ANSWER });
    const second = (await waitArchived([conversation.id])).get(conversation.id)!;
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.history.map((m) => m.content)).toEqual(expect.arrayContaining([FOLLOW_UP, FOLLOW_UP_ANSWER]));
    expect(second.history).toHaveLength(first.history.length + 2);
    expect(second.events.filter((e) => e.type === 'conversation.completed')).toHaveLength(2);
    expect(second.record.output).toBe(FOLLOW_UP_ANSWER);
    expect(await redis.ttl(keys.conversation(conversation.id))).toBeLessThanOrEqual(KEEP_SECONDS);
  });

  it('does not shorten the keys of a conversation revived between the archive read and the write', async () => {
    const conversation = await client.start({ agent: 'Triage', input: 'One more refund question' });
    await conversation.result({ timeoutMs: 15_000 });
    await waitArchived([conversation.id]);
    // Keep it in Redis for the retention period again, as before its archiving.
    await redis.expire(keys.conversation(conversation.id), 3600);
    await redis.expire(keys.history(conversation.id), 3600);
    const store = new ConversationStore(redis, keys);
    const { conversation: read } = await readFinishedConversation(store, new EventLog(redis, keys), conversation.id);
    expect(read?.record.status).toBe('completed');
    await conversation.send(FOLLOW_UP);
    await vi.waitFor(async () => expect((await conversation.status()).status).toBe('running'), { timeout: 10_000, interval: 10 });
    expect(await shortenArchivedRetention(redis, keys, conversation.id, read!.record.version, 5)).toBe('changed');
    expect(await redis.ttl(keys.conversation(conversation.id))).toBe(-1);
    await conversation.result({ timeoutMs: 15_000 });
    // Ended again (another version): the archived copy of the earlier end does not cut it either.
    expect(await shortenArchivedRetention(redis, keys, conversation.id, read!.record.version, 5)).toBe('changed');
    expect(await redis.ttl(keys.conversation(conversation.id))).toBeGreaterThan(5);
  });
});
