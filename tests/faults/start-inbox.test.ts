import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DEFAULT_COORDINATOR_PARTITIONS, DEFAULT_RECONCILE_AFTER_MS, coordinatorPartitionOf, newOperationId } from '@handoff/core';
import { createClient } from '@handoff/client';
import { RedisServerProcess, startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { QueueSet, registerNetwork } from '@handoff/redis';
import { MAX_STORED_START_TRIES } from '@handoff/gateway';
import { CRASH_NETWORK, CrashHarness, coordinatorProcess, countEvents, startCommand, underFault } from './support/crash-points.js';

/**
 * A client's start under faults: its Redis link is cut (the reply lost; ioredis re-sends) or frozen
 * (the client process dead) after each of the Redis commands `start()` sends — the registration
 * read, then the in-flight index entry, the starting mark and the push on the partition's inbox.
 * Then a healthy gateway pops what reached the inboxes and one reconciler round runs. A start its
 * caller was told was accepted has started; one that threw has started or left nothing behind (no
 * mark that says "starting" for good, no index entry); never twice.
 */
describe('a client start is never dropped once accepted, whatever command it dies after', () => {
  let proxy: RedisFaultProxy;
  let harness: CrashHarness;

  beforeAll(async () => {
    proxy = await startRedisFaultProxy(redisUrl());
    harness = new CrashHarness(redisUrl(), uniquePrefix('start-faults'), proxy);
    await harness.start();
  });
  afterAll(async () => {
    await harness?.close();
    await proxy?.close();
  });

  for (const mode of ['cut', 'freeze'] as RedisFaultMode[]) {
    it(`${mode === 'cut' ? 'a lost reply' : 'the client dying'} after each of start()'s Redis commands`, async () => {
      const outcomes: string[] = [];
      let k = 1;
      for (; k <= 20; k++) {
        const id = `c_start_${mode}_${k}_${newOperationId().slice(3, 9)}`;
        const client = createClient({ redis: { url: proxy.url, prefix: harness.prefix }, connectTimeoutMs: 2_000 });
        await client.network(); // connected, the registration read: the count starts at start()'s own commands
        let accepted = false;
        const { fired, at } = await underFault(
          proxy,
          k,
          mode,
          async () => {
            await client.start({ agent: 'A', input: `hello ${id}`, conversationId: id });
            accepted = true;
          },
          () => void client.close().catch(() => undefined),
        );
        if (!fired) {
          expect(accepted).toBe(true);
          break;
        }
        outcomes.push(`${k} ${at}: ${accepted ? 'accepted' : 'threw'}`);
        await harness.drainInbox();
        await harness.reconcile();
        const record = await harness.record(id);
        if (accepted) expect(record, `accepted, ${mode} after command ${k} (${at})`).not.toBeNull();
        if (record) {
          expect(await harness.invariants(id), `${mode} after command ${k} (${at})`).toEqual([]);
          expect(record.status).toBe('running');
          expect(await countEvents(harness, id, 'conversation.started')).toBe(1);
          expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
        } else {
          // Not accepted and not started: nothing says "starting", nothing waits in the index.
          expect(await harness.redis.exists(harness.keys.starting(id)), `${mode} after command ${k} (${at}): a starting mark left`).toBe(0);
          expect(await harness.redis.zscore(harness.keys.inFlight, id), `${mode} after command ${k} (${at}): an index entry left`).toBeNull();
        }
      }
      console.log(`start() under ${mode}: ${outcomes.join('; ')}`);
      // The whole path was covered: the index entry, the mark and the push each had a fault after them.
      expect(k).toBeGreaterThan(3);
    }, 120_000);
  }

  it('an unreadable start its client marked ends its conversation failed, from the inbox or from the mark', async () => {
    for (const via of ['inbox', 'mark'] as const) {
      const id = `c_start_unreadable_${via}_${newOperationId().slice(3, 9)}`;
      // What a client of another version, or a buggy producer, could leave: no input.
      const payload = { schemaVersion: 1, kind: 'start', conversationId: id, entryAgent: 'A', context: {}, limits: {}, operationId: newOperationId(), createdAt: Date.now() };
      await harness.redis.zadd(harness.keys.inFlight, Date.now() + 10_000, id);
      await harness.redis.set(harness.keys.starting(id), JSON.stringify(payload), 'EX', 3600);
      if (via === 'inbox') expect(await harness.deliver(payload)).toBe('dead-lettered');
      await harness.reconcile();
      expect(await harness.record(id), via).toMatchObject({ status: 'failed', terminalReason: 'error', error: { code: 'VALIDATION_FAILED' } });
      expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
      // The next round finds it ended and lets go of it.
      await harness.reconcile();
      expect(await harness.redis.zscore(harness.keys.inFlight, id)).toBeNull();
    }
  });

  it('an unreadable start that is not the one its conversation was marked with ends nothing', async () => {
    const { payload: marked } = await startCommand(harness, `c_start_other_${newOperationId().slice(3, 9)}`);
    const id = marked.conversationId;
    // Garbage naming the conversation, under another operation id: the marked start is still to come.
    expect(await harness.deliver({ schemaVersion: 1, kind: 'start', conversationId: id, operationId: newOperationId() })).toBe('dead-lettered');
    expect(await harness.record(id)).toBeNull();
    expect(await harness.redis.exists(harness.keys.starting(id))).toBe(1);
    expect(await harness.deliver(marked)).toBe('applied');
    expect(await harness.record(id)).toMatchObject({ status: 'running' });
  });

  it('a start found applied already leaves no mark behind (a duplicate, or its mark written again after a lost reply)', async () => {
    const { payload } = await startCommand(harness, `c_start_dup_${newOperationId().slice(3, 9)}`);
    const id = payload.conversationId;
    expect(await harness.deliver(payload)).toBe('applied');
    expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
    // ioredis re-sends the client's SET after a lost reply, once the start was applied; the inbox entry is re-sent too.
    await harness.redis.set(harness.keys.starting(id), JSON.stringify(payload), 'EX', 3600);
    expect(await harness.deliver(payload)).toBe('redelivered');
    expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
    // Another start of the same id (the id is taken) leaves the first one's conversation alone, and no mark either.
    const { payload: again } = await startCommand(harness, id);
    expect(await harness.deliver(again)).toBe('redelivered');
    expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
    expect(await countEvents(harness, id, 'conversation.started')).toBe(1);
  });

  it('a start the reconciler cannot apply is tried while young, then settled failed and dead-lettered', async () => {
    const { payload } = await startCommand(harness, `c_start_stuck_${newOperationId().slice(3, 9)}`);
    const id = payload.conversationId;
    const process = await coordinatorProcess(harness.redisUrl, harness.keys);
    const coordinator = process.coordinator;
    const handle = coordinator.handle.bind(coordinator);
    coordinator.handle = async () => {
      throw new Error('Redis said no (test)');
    };
    const reconciler = harness.reconcilerOf(process);
    try {
      // Due, and young: tried, left for the next time (the round goes on).
      expect(await reconciler.runOnce((payload as { createdAt: number }).createdAt + 11_000)).toMatchObject({ appliedStarts: 0 });
      expect(await harness.record(id)).toBeNull();
      expect(await harness.redis.exists(harness.keys.starting(id))).toBe(1);
      expect(await harness.redis.zscore(harness.keys.inFlight, id)).not.toBeNull();
      // Older than its tries: its conversation ends with the error, and the start is dead-lettered.
      await reconciler.runOnce((payload as { createdAt: number }).createdAt + (MAX_STORED_START_TRIES + 1) * DEFAULT_RECONCILE_AFTER_MS);
      expect(await harness.record(id)).toMatchObject({ status: 'failed', error: { code: 'INTERNAL', message: 'Redis said no (test)' } });
      expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
      const letters = await new QueueSet(harness.redis, harness.prefix).deadLetter.getJobs(['waiting']);
      expect(letters.some((l) => l.data.conversationId === id && l.data.payload?.kind === 'start')).toBe(true);
    } finally {
      coordinator.handle = handle;
      process.close();
    }
  });

  it('a start Redis refuses to write is not accepted: a typed error that names its conversation, and nothing left behind', async () => {
    // A Redis of its own, full (noeviction): reads answer, every write is refused with OOM.
    const server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'] });
    await server.start();
    const admin = new Redis(server.url);
    const client = createClient({ redis: { url: server.url, prefix: harness.prefix } });
    try {
      await registerNetwork(admin, harness.keys, CRASH_NETWORK);
      await admin.config('SET', 'maxmemory', '1');
      const error = await client.start({ agent: 'A', input: 'hello' }).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'INTERNAL', retryable: true, message: expect.stringMatching(/^The start of conversation "c_\w+" was not accepted: OOM .* Starting again with conversationId "c_\w+" starts one conversation\.$/) });
      const id = (error as { details: { conversationId: string } }).details.conversationId;
      await admin.config('SET', 'maxmemory', '0');
      expect(await admin.exists(harness.keys.starting(id))).toBe(0);
      expect(await admin.zscore(harness.keys.inFlight, id)).toBeNull();
      expect(await admin.llen(harness.keys.turnInbox(coordinatorPartitionOf(id, DEFAULT_COORDINATOR_PARTITIONS)))).toBe(0);
      // Started again under the id it named, it is accepted once Redis takes writes.
      await expect(client.start({ agent: 'A', input: 'hello', conversationId: id })).resolves.toMatchObject({ id });
      expect(await admin.exists(harness.keys.starting(id))).toBe(1);
    } finally {
      await client.close();
      admin.disconnect();
      await server.stop();
    }
  });

  it('a start popped by a gateway that died before applying it is applied by the reconciler from its mark', async () => {
    const id = `c_start_lost_${newOperationId().slice(3, 9)}`;
    const client = createClient({ redis: { url: redisUrl(), prefix: harness.prefix } });
    try {
      await client.start({ agent: 'A', input: 'hello', conversationId: id });
      // The gateway popped it and died: the inbox entry is gone, nothing applied it.
      const popped: string[] = [];
      for (let partition = 0; partition < DEFAULT_COORDINATOR_PARTITIONS; partition++) popped.push(...(await harness.redis.lpop(harness.keys.turnInbox(partition), 1_000) ?? []));
      expect(popped.filter((raw) => (JSON.parse(raw) as { conversationId: string }).conversationId === id)).toHaveLength(1);
      await expect(client.conversation(id).status()).rejects.toMatchObject({ code: 'CONVERSATION_NOT_STARTED' });
      await harness.reconcile();
      const record = await harness.record(id);
      expect(record).toMatchObject({ status: 'running', entryAgent: 'A' });
      expect(await harness.invariants(id)).toEqual([]);
      expect(await harness.redis.exists(harness.keys.starting(id))).toBe(0);
    } finally {
      await client.close();
    }
  });
});
