import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COORDINATOR_PARTITIONS, newOperationId } from '@handoff/core';
import { createClient } from '@handoff/client';
import { startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { CrashHarness, countEvents, underFault } from './support/crash-points.js';

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

  /** What a live gateway does with the inboxes: pops every entry and applies it. */
  async function drainInboxes(): Promise<number> {
    let applied = 0;
    for (let partition = 0; partition < DEFAULT_COORDINATOR_PARTITIONS; partition++) {
      for (let raw = await harness.redis.rpop(harness.keys.turnInbox(partition)); raw !== null; raw = await harness.redis.rpop(harness.keys.turnInbox(partition))) {
        await harness.deliver(JSON.parse(raw));
        applied++;
      }
    }
    return applied;
  }

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
        await drainInboxes();
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
