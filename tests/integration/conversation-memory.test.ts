import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { keyLayout, type StoredEvent } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { EventLog } from '@handoff/redis';
import { hasTool, lastUserText, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { triageBillingNetwork } from '../support/network-builders.js';

/** A 200-token answer: 800 characters of English (four characters a token, as the scripted model counts). */
const ANSWER = Array.from({ length: 12 }, (_, i) => `Step ${i + 1}: I checked invoice ${1000 + i} and the duplicate charge is refunded today. `)
  .join('')
  .slice(0, 800);
const QUESTION = 'I was charged twice on my last invoice, can I get a refund?';
/** Streamed slowly (4 characters every 15 ms), so a reader can come and go while the turn runs. */
const SLOW_ANSWER = 'The slow answer arrives a few characters at a time, over about a second.';
/** The follow-up of a finished conversation, and its answer (streamed slowly too). */
const FOLLOW_UP = 'and once more, slowly';
const FOLLOW_UP_ANSWER = 'A second answer, streamed again in small pieces after the conversation came back to life.';

/** Every key of one conversation (`conv:{id}:*`) with its `MEMORY USAGE` in bytes. */
async function conversationBytes(redis: Redis, prefix: string, conversationId: string): Promise<Record<string, number>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:conv:{${conversationId}}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const bytes: Record<string, number> = {};
  for (const key of keys.sort()) bytes[key.slice(`${prefix}:conv:{${conversationId}}:`.length)] = (await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0;
  return bytes;
}

/** Orders stream ids. */
function cmpId(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

async function collect(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const textOf = (events: readonly StoredEvent[]) => events.map((e) => (e.type === 'text.delta' ? e.text : '')).join('');
/** The events as a reader sees them, text deltas merged (how many deltas carry the text is not fixed). */
const shape = (events: readonly StoredEvent[]) =>
  events
    .filter((e) => e.type !== 'text.delta')
    .map((e) => {
      const { ts: _ts, ...rest } = e;
      return rest;
    });

/**
 * What a finished conversation keeps in Redis: a 2-hop conversation (a handoff, then a 200-token
 * answer streamed over time) costs at most 3 KiB summed over every key it leaves, and its event log
 * — compacted when it ended — still replays whole: from the start, after any id, and live.
 */
describe('memory per finished conversation', () => {
  const prefix = uniquePrefix('mem');
  const keys = keyLayout(prefix);
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: WorkerGroup;
  let client: RedisHandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    model = await startScriptedModel({
      chunkSize: 4,
      rules: [
        { when: hasTool('transfer_to_Billing'), reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: { reason: 'billing question' } }] } },
        { when: (req) => systemIncludes('You are Billing.')(req) && lastUserText(req) === 'slow', reply: { content: SLOW_ANSWER, chunkDelayMs: 15 } },
        { when: (req) => systemIncludes('You are Billing.')(req) && lastUserText(req) === FOLLOW_UP, reply: { content: FOLLOW_UP_ANSWER, chunkDelayMs: 25 } },
        { when: systemIncludes('You are Billing.'), reply: { content: ANSWER, chunkDelayMs: 1 } },
      ],
    });
    const network = triageBillingNetwork(model.url);
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const config = { url: redisUrl(), prefix };
    gateway = await startGateway({ network, redis: config, logger });
    workers = await startWorkers({ network, redis: config, logger });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    client = createClient({ redis: config });
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([workers?.close(), gateway?.close()]);
    await model?.close();
    redis?.disconnect();
  });

  /** Runs a conversation to its end with a reader following it live; returns it once its lingering keys are gone. */
  async function finished(input: string) {
    const conversation = await client.start({ agent: 'Triage', input });
    const live = collect(conversation.events({ timeoutMs: 15_000 }));
    const result = await conversation.result({ timeoutMs: 15_000 });
    // The wake-up mark and the live stream linger a moment after the end, then go.
    await vi.waitFor(async () => expect(await redis.exists(keys.done(conversation.id), keys.events(conversation.id))).toBe(0), { timeout: 10_000, interval: 100 });
    return { conversation, result, live: await live };
  }

  it('keeps at most 3 KiB for a finished 2-hop conversation with a 200-token answer', async () => {
    const { conversation, result } = await finished(QUESTION);
    expect(result).toMatchObject({ status: 'completed', output: ANSWER, path: ['Triage', 'Billing'] });
    const bytes = await conversationBytes(redis, prefix, conversation.id);
    const total = Object.values(bytes).reduce((sum, n) => sum + n, 0);
    console.info(`finished 2-hop conversation with a 200-token answer: ${total} bytes ${JSON.stringify(bytes)}`);
    expect(Object.keys(bytes)).toEqual(['eventlog', 'history', 'record']);
    expect(total).toBeLessThanOrEqual(3072);
    // The record is whole again when read: its output comes from the history entry it refers to.
    expect(await conversation.status()).toMatchObject({ conversationId: conversation.id, status: 'completed', output: ANSWER, failures: [], waiting: null, next: null });
    expect(await redis.ttl(keys.conversation(conversation.id))).toBeGreaterThan(6 * 24 * 3600);
    expect(await redis.ttl(keys.history(conversation.id))).toBeGreaterThan(6 * 24 * 3600);
    const eventTtl = await redis.ttl(keys.finishedEvents(conversation.id));
    expect(eventTtl).toBeGreaterThan(23 * 3600);
    expect(eventTtl).toBeLessThanOrEqual(24 * 3600);
  });

  it('replays a finished conversation whole: from the start, after any id, what a live reader saw', async () => {
    const { conversation, live } = await finished(QUESTION);
    const replay = await collect(conversation.events({ timeoutMs: 5_000 }));
    // The same events with the same ids as the live reader saw; the streamed text is now one delta.
    expect(shape(replay)).toEqual(shape(live));
    expect(textOf(live)).toBe(ANSWER);
    expect(textOf(replay)).toBe(ANSWER);
    expect(replay.filter((e) => e.type === 'text.delta')).toHaveLength(1);
    expect(replay.map((e) => e.type)).toEqual([
      'conversation.started',
      'agent.started',
      'tool.called',
      'tool.result',
      'agent.completed',
      'handoff',
      'agent.started',
      'text.delta',
      'agent.completed',
      'conversation.completed',
    ]);
    expect(replay[0]).toMatchObject({ type: 'conversation.started', conversationId: conversation.id, input: QUESTION, entryAgent: 'Triage' });
    expect(replay[2]).toMatchObject({ type: 'tool.called', agent: 'Triage', hopId: `${conversation.id}.h1`, name: 'transfer_to_Billing', arguments: '{"reason":"billing question"}' });
    expect(replay[3]).toMatchObject({ type: 'tool.result', agent: 'Triage', name: 'transfer_to_Billing', result: '{"assistant":"Billing"}', isError: false });
    expect(replay[7]).toMatchObject({ type: 'text.delta', agent: 'Billing', hopId: `${conversation.id}.h2` });
    expect(replay[8]).toMatchObject({ type: 'agent.completed', agent: 'Billing', outcome: 'final', timing: { modelMs: expect.any(Number) } });
    expect(replay[9]).toMatchObject({ type: 'conversation.completed', result: { status: 'completed', output: ANSWER, path: ['Triage', 'Billing'] } });
    // Resuming after any id gives the rest, and ends after the terminal event.
    for (let k = 0; k < replay.length; k++) {
      const rest = await collect(conversation.events({ after: replay[k]!.id, timeoutMs: 5_000 }));
      expect(rest.map((e) => e.id)).toEqual(replay.slice(k + 1).map((e) => e.id));
    }
    // inspect's way (plain reads until nothing is left) sees the same.
    const log = new EventLog(redis, keys);
    expect((await log.read(conversation.id, { count: 1_000 })).map((e) => e.id)).toEqual(replay.map((e) => e.id));
  });

  it('a reader that comes back while the turn runs gets the rest of its text as deltas', async () => {
    const conversation = await client.start({ agent: 'Triage', input: 'slow' });
    let resumed: Promise<StoredEvent[]> | undefined;
    const first: StoredEvent[] = [];
    for await (const event of conversation.events({ timeoutMs: 15_000 })) {
      first.push(event);
      if (event.type === 'text.delta') {
        // Leave after the first delta, and come back after it at once, mid-turn.
        resumed = collect(conversation.events({ after: event.id, timeoutMs: 15_000 }));
        break;
      }
    }
    const rest = await resumed!;
    expect(rest.filter((e) => e.type === 'text.delta').length).toBeGreaterThan(1);
    expect(textOf(first) + textOf(rest)).toBe(SLOW_ANSWER);
    expect(rest.at(-1)?.type).toBe('conversation.completed');
  });

  it('a finished conversation revived by a follow-up streams again, live, and compacts again when it ends', async () => {
    const { conversation, live: firstRun } = await finished('slow');
    const firstEnd = firstRun.at(-1)!;
    expect(firstEnd.type).toBe('conversation.completed');
    expect(await redis.exists(keys.finishedEvents(conversation.id))).toBe(1);
    await conversation.send(FOLLOW_UP);
    // Once the follow-up is applied (the conversation runs again), a reader resumes after the first end.
    await vi.waitFor(async () => expect((await conversation.status()).status).toBe('running'), { timeout: 10_000, interval: 5 });
    const statusAtDelta: string[] = [];
    const resumed: StoredEvent[] = [];
    for await (const event of conversation.events({ after: firstEnd.id, timeoutMs: 15_000 })) {
      resumed.push(event);
      if (event.type === 'text.delta') statusAtDelta.push((await conversation.status()).status);
    }
    // The follow-up's text came delta by delta, while its turn ran, and the reader ended after the second end.
    expect(resumed.filter((e) => e.type === 'text.delta').length).toBeGreaterThan(2);
    expect(statusAtDelta[0]).toBe('running');
    expect(textOf(resumed)).toBe(FOLLOW_UP_ANSWER);
    expect(resumed.at(-1)).toMatchObject({ type: 'conversation.completed', result: { status: 'completed', output: FOLLOW_UP_ANSWER } });
    expect(resumed.filter((e) => e.type === 'conversation.completed')).toHaveLength(1);
    for (const event of resumed) expect(cmpId(event.id, firstEnd.id)).toBe(1);
    // Once the stream is gone again, the whole log (plain reads, as inspect does) holds both runs, compacted.
    await vi.waitFor(async () => expect(await redis.exists(keys.done(conversation.id), keys.events(conversation.id))).toBe(0), { timeout: 10_000, interval: 100 });
    const log = new EventLog(redis, keys);
    const replay: StoredEvent[] = [];
    for (let after = '0'; ; ) {
      const batch = await log.read(conversation.id, { after, count: 3 });
      if (batch.length === 0) break;
      replay.push(...batch);
      after = batch.at(-1)!.id;
    }
    expect(textOf(replay)).toBe(SLOW_ANSWER + FOLLOW_UP_ANSWER);
    expect(replay.filter((e) => e.type === 'conversation.completed').map((e) => e.id)).toEqual([firstEnd.id, resumed.at(-1)!.id]);
    expect(replay.at(-1)!.id).toBe(resumed.at(-1)!.id);
    expect(shape(replay)).toEqual(shape([...firstRun, ...resumed]));
    // In order, each id after the one before.
    for (let k = 1; k < replay.length; k++) expect(cmpId(replay[k - 1]!.id, replay[k]!.id)).toBe(-1);
    // A reader of the first run still ends at the first end; one after it, at the second.
    expect((await collect(conversation.events({ timeoutMs: 5_000 }))).at(-1)!.id).toBe(firstEnd.id);
    expect((await collect(conversation.events({ after: firstEnd.id, timeoutMs: 5_000 }))).at(-1)!.id).toBe(resumed.at(-1)!.id);
    // And what it keeps stays small: no stream, the log compacted.
    const bytes = await conversationBytes(redis, prefix, conversation.id);
    const total = Object.values(bytes).reduce((sum, n) => sum + n, 0);
    console.info(`twice-finished conversation: ${total} bytes ${JSON.stringify(bytes)}`);
    expect(Object.keys(bytes)).not.toContain('events');
    expect(Object.keys(bytes)).toContain('eventlog');
    expect(total).toBeLessThanOrEqual(4096);
  });

  it('once the event log is past its retention, a replay still ends with the terminal event, rebuilt from the record', async () => {
    const { conversation, live } = await finished(QUESTION);
    await redis.del(keys.finishedEvents(conversation.id));
    const replay = await collect(conversation.events({ timeoutMs: 5_000 }));
    expect(replay).toEqual([live.at(-1)]);
    expect(await collect(conversation.events({ after: replay[0]!.id, timeoutMs: 5_000 }))).toEqual([]);
  });
});
