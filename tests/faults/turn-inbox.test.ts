import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentQueueName, coordinatorPartitionOf, DEFAULT_COORDINATOR_PARTITIONS, hopId, hopJobId, newOperationId, type ConversationRecord, type TurnResult } from '@handoff/core';
import { CoordinatorPartitions, TurnInbox, createRedisConnection, type RedisClient } from '@handoff/redis';
import { TurnInboxConsumer } from '@handoff/gateway';
import { startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { CrashHarness, coordinatorProcess, countEvents, started, turnResult, underFault } from './support/crash-points.js';

const HANDOFF: TurnResult['outcome'] = { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'over to B', source: 'llm_condition' };

/**
 * A turn result reaches the coordinator through its partition's turn inbox, with a stored copy in
 * the conversation's keys (see TurnInbox). These runs cut or freeze the worker's Redis link after
 * each command of the send, and drop results a gateway popped, and check that the turn is applied
 * exactly once with the recovery a deployment gives: the hop job redelivered to a worker (which
 * finds the stored copy, or sends again), a gateway draining the inbox, and a reconciler round.
 */
describe('turn inbox: a turn result is never lost between worker and coordinator', () => {
  let proxy: RedisFaultProxy;
  let h: CrashHarness;
  let direct: RedisClient;
  let inbox: TurnInbox;

  beforeAll(async () => {
    proxy = await startRedisFaultProxy(redisUrl());
    h = new CrashHarness(redisUrl(), uniquePrefix('inbox'), proxy);
    await h.start();
    direct = createRedisConnection(redisUrl(), 'command');
    inbox = new TurnInbox(direct, h.keys, new CoordinatorPartitions(DEFAULT_COORDINATOR_PARTITIONS));
  });
  afterAll(async () => {
    direct?.disconnect();
    await h?.close();
    await proxy?.close();
  });

  const inboxKey = (id: string) => h.keys.turnInbox(coordinatorPartitionOf(id, DEFAULT_COORDINATOR_PARTITIONS));

  /** What a gateway does with the conversation's partition's inbox. */
  const drainInbox = (id: string) => h.drainInbox(coordinatorPartitionOf(id, DEFAULT_COORDINATOR_PARTITIONS));

  /** The state a turn that handed off to B must leave, whatever happened on the way. */
  async function expectHandedOff(id: string, where: string): Promise<void> {
    const record = (await h.record(id)) as ConversationRecord;
    expect(await h.invariants(id), where).toEqual([]);
    expect(record.appliedSeq, where).toBe(1);
    expect(await countEvents(h, id, 'handoff'), where).toBe(1);
    expect(await h.jobState(agentQueueName('B'), hopJobId(hopId(id, 2), record.epoch)), where).toBe('waiting');
    expect(await h.redis.exists(h.keys.turnResult(id)), `${where}: the stored copy is spent`).toBe(0);
  }

  for (const mode of ['cut', 'freeze'] as RedisFaultMode[]) {
    it(`the worker's send: ${mode === 'cut' ? 'a lost reply' : 'the worker dying'} after each of its Redis commands`, async () => {
      let k = 1;
      for (; k <= 10; k++) {
        const id = `ti_${mode}_${k}_${newOperationId().slice(3, 11)}`;
        const record = await started(h, id);
        const result = turnResult(record, 1, 'A', HANDOFF);
        const connection = createRedisConnection(proxy.url, 'command');
        const faulty = new TurnInbox(connection, h.keys, new CoordinatorPartitions(DEFAULT_COORDINATOR_PARTITIONS));
        await (connection as unknown as { ping(): Promise<string> }).ping();
        const { fired } = await underFault(proxy, k, mode, () => faulty.send(result), () => connection.disconnect());
        if (!fired) break;
        // Recovery: the hop job comes back to a worker (the dead one's lock expired, or the send threw):
        // a stored copy means the result was sent; else the turn runs and sends again.
        if (!(await inbox.holds(id, result.hopId, result.epoch))) await inbox.send(result);
        await drainInbox(id);
        await h.reconcile();
        await expectHandedOff(id, `${mode} after command ${k}`);
      }
      expect(k, 'the whole send was covered').toBeGreaterThan(2);
    }, 60_000);
  }

  it('a result a gateway popped and never applied (it died) is applied by the reconciler from its stored copy', async () => {
    const id = `ti_popped_${newOperationId().slice(3, 11)}`;
    const record = await started(h, id);
    expect(await inbox.send(turnResult(record, 1, 'A', HANDOFF))).toBe('sent');
    // The gateway pops it, then dies.
    expect(await h.redis.rpop(inboxKey(id))).not.toBeNull();
    expect((await h.record(id))?.appliedSeq).toBe(0);
    await h.reconcile();
    await expectHandedOff(id, 'after the reconciler');
    const warnings = (await h.events(id)).filter((e) => e.type === 'warning');
    expect(warnings.map((e) => (e.type === 'warning' ? e.message : ''))).toEqual([expect.stringContaining('applied from its stored copy')]);
  });

  it('a result for a hop that is no longer pending is not stored, and changes nothing when popped', async () => {
    const id = `ti_stale_${newOperationId().slice(3, 11)}`;
    const record = await started(h, id);
    const result = turnResult(record, 1, 'A', HANDOFF);
    expect(await inbox.send(result)).toBe('sent');
    await drainInbox(id);
    await expectHandedOff(id, 'applied once');
    // The same hop's result again (a worker that was paused past its lock, say).
    expect(await inbox.send(result)).toBe('stale');
    expect(await h.redis.exists(h.keys.turnResult(id))).toBe(0);
    expect(await drainInbox(id)).toBe(1);
    await expectHandedOff(id, 'after the duplicate');
    // Another incarnation's result is refused too.
    expect(await inbox.send({ ...turnResult(record, 2, 'B', { type: 'final', output: 'done' }), epoch: 'another' })).toBe('stale');
    await drainInbox(id);
  });

  it('the consumer applies what workers push, and settles a result that keeps failing (the conversation ends, the result is dead-lettered)', async () => {
    const gateway = await coordinatorProcess(redisUrl(), h.keys);
    const blocking = createRedisConnection(redisUrl(), 'blocking');
    const failing = new Set<string>();
    const letters: string[] = [];
    const consumer = new TurnInboxConsumer(
      {
        blocking,
        commands: gateway.connection,
        keys: h.keys,
        logger: pino({ level: 'silent' }),
        handle: async (payload) => {
          const id = (payload as { conversationId: string }).conversationId;
          if (failing.has(id)) throw new Error('Redis refused the write (test)');
          return gateway.coordinator.handle(payload);
        },
        settle: (payload, error) => gateway.coordinator.settleFailedJob(payload, error),
        deadLetter: async (payload) => {
          letters.push((payload as { conversationId: string }).conversationId);
        },
      },
      { partitions: DEFAULT_COORDINATOR_PARTITIONS, attempts: 3, backoffMs: 20 },
    );
    consumer.start();
    try {
      await consumer.waitUntilReady();
      const ok = await started(h, `ti_ok_${newOperationId().slice(3, 11)}`);
      const bad = await started(h, `ti_bad_${newOperationId().slice(3, 11)}`);
      failing.add(bad.conversationId);
      await inbox.send(turnResult(ok, 1, 'A', HANDOFF));
      await inbox.send(turnResult(bad, 1, 'A', HANDOFF));
      const until = Date.now() + 10_000;
      while (Date.now() < until && ((await h.record(ok.conversationId))?.appliedSeq !== 1 || (await h.record(bad.conversationId))?.status !== 'failed')) await new Promise((resolve) => setTimeout(resolve, 20));
      await expectHandedOff(ok.conversationId, 'applied by the consumer');
      const failed = await h.record(bad.conversationId);
      expect(failed?.status).toBe('failed');
      expect(failed?.error?.message).toContain('Redis refused the write (test)');
      expect(letters).toEqual([bad.conversationId]);
      expect(await h.invariants(bad.conversationId)).toEqual([]);
    } finally {
      await consumer.close(1_000);
      blocking.disconnect();
      gateway.close();
    }
  });
});
