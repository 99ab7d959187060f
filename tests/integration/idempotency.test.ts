import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, queuePrefix, hopId, hopJobId, type StartCommand, type TurnResult } from '@handoff/core';
import { ConversationStore, EventLog, QueueSet, createRedisConnection, type HopLane, registerNetwork } from '@handoff/redis';
import { Coordinator, HealthView, Routers, decideTurn } from '@handoff/gateway';
import { defineAgent, defineNetwork, keyLayout } from '@handoff/core';
import pino from 'pino';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { chainNetwork } from '../support/network-builders.js';
import { hasTool, systemIncludes } from '@handoff/testing';
import { coordinatorQueueOf, coordinatorQueueNameOf } from '../support/queues.js';

const network = defineNetwork({
  name: 'pair',
  agents: [
    defineAgent({ name: 'A', instructions: 'You are A.', handoffs: ['B'] }),
    defineAgent({ name: 'B', instructions: 'You are B.' }),
  ],
});

function turn(conversationId: string, seq: number, agent: string, outcome: TurnResult['outcome']): TurnResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'turn',
    conversationId,
    hopId: hopId(conversationId, seq),
    seq,
    agent,
    newMessages: [{ role: 'assistant', content: `${agent} says hi`, tool_calls: [{ id: `call_${seq}`, type: 'function', function: { name: 'transfer_to_B', arguments: '{}' } }] }, { role: 'tool', tool_call_id: `call_${seq}`, content: '{"assistant":"B"}' }],
    outcome,
    usage: { promptTokens: 10, completionTokens: 5 },
    attempt: 1,
    workerId: 'test',
    timing: { queuedAt: 0, startedAt: 1, firstModelCallAt: 2, lastModelReturnAt: 3, modelMs: 1, finishedAt: 4 },
  };
}

/**
 * The coordinator driven directly, job payload by job payload, on a real Redis: the interleavings
 * that at-least-once delivery produces.
 */
describe('coordinator applies each hop exactly once', () => {
  const prefix = uniquePrefix('idem');
  const keys = keyLayout(prefix);
  let redis: Redis;
  let coordinator: Coordinator;
  let store: ConversationStore;
  let queues: QueueSet;
  let agentB: HopLane;

  beforeAll(async () => {
    redis = createRedisConnection(redisUrl(), 'command') as Redis;
    store = new ConversationStore(redis, keys);
    queues = new QueueSet(redis, prefix);
    await registerNetwork(redis, keys, network);
    const health = new HealthView(redis, keys);
    coordinator = new Coordinator({ network, store, events: new EventLog(redis, keys), queues, logger: pino({ level: 'silent' }), redis, keys, health, routers: new Routers(network, redis, keys, queues, health) });
    agentB = queues.lane('B');
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
  });

  async function started(id: string): Promise<void> {
    const start: StartCommand = { schemaVersion: 1, kind: 'start', conversationId: id, entryAgent: 'A', input: 'hello', context: {}, limits: {}, createdAt: Date.now() };
    expect(await coordinator.handle(start)).toBe('applied');
    expect(await coordinator.handle(start)).toBe('redelivered');
  }

  it('applies a turn result delivered twice once: one history entry, one handoff event, one next hop', async () => {
    const id = 'c_twice';
    await started(id);
    const result = turn(id, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'because', source: 'llm_condition' });
    expect(await coordinator.handle(result)).toBe('applied');
    expect(await coordinator.handle(result)).toBe('redelivered');

    const history = await store.history(id);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    const record = await store.read(id);
    expect(record).toMatchObject({ appliedSeq: 1, path: ['A', 'B'], usage: { promptTokens: 10, completionTokens: 5 } });
    const events = await new EventLog(redis, keys).read(id);
    expect(events.filter((e) => e.type === 'handoff')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'conversation.started')).toHaveLength(1);
    const ids = await agentB.waitingIds();
    expect(ids.filter((hop) => hop.startsWith(`${id}.`))).toEqual([hopJobId(hopId(id, 2), record!.epoch)]);
  });

  it('publishes the next hop on redelivery when a crash fell between the apply and the publish', async () => {
    const id = 'c_crash';
    await started(id);
    const result = turn(id, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'because', source: 'llm_condition' });
    // Simulate the crash: the apply step ran, the publish never did.
    const record = await store.read(id);
    const decision = decideTurn(network, record!, result);
    expect((await store.apply(decision.step)).outcome).toBe('applied');
    expect(await agentB.state(hopJobId(hopId(id, 2), record!.epoch))).toBe('unknown');

    // The same turn result delivered again: it must not re-apply, and must publish.
    expect(await coordinator.handle(result)).toBe('redelivered');
    const payload = await agentB.payload(hopJobId(hopId(id, 2), record!.epoch));
    expect(JSON.parse(payload!)).toMatchObject({ conversationId: id, seq: 2, agent: 'B', previousAgent: 'A', reason: 'because' });
    expect((await store.history(id)).length).toBe(3);
  });

  it('ignores a stale redelivery once the conversation moved on', async () => {
    const id = 'c_stale';
    await started(id);
    await coordinator.handle(turn(id, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'x', source: 'llm_condition' }));
    await coordinator.handle(turn(id, 2, 'B', { type: 'final', output: 'done' }));
    const { epoch } = (await store.read(id))!;
    expect(await agentB.remove(hopJobId(hopId(id, 2), epoch))).toBe(1);
    expect(await coordinator.handle(turn(id, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'x', source: 'llm_condition' }))).toBe('redelivered');
    expect(await agentB.state(hopJobId(hopId(id, 2), epoch))).toBe('unknown');
    expect((await store.read(id))?.status).toBe('completed');
    expect((await store.history(id)).length).toBe(5);
  });

  it('dead-letters a turn result that does not match the pending hop, with an error event', async () => {
    const id = 'c_mismatch';
    await started(id);
    expect(await coordinator.handle(turn(id, 1, 'B', { type: 'final', output: 'imposter' }))).toBe('dead-lettered');
    expect((await store.read(id))?.appliedSeq).toBe(0);
    const letters = await queues.deadLetter.getJobs(['waiting']);
    expect(letters.some((l) => l.data.conversationId === id && l.data.sourceQueue === coordinatorQueueNameOf(id))).toBe(true);
    const events = await new EventLog(redis, keys).read(id);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'VALIDATION_FAILED' } });
  });
});

/** The same job delivered twice through BullMQ itself, with the whole runtime running. */
describe('duplicate delivery through the queues', () => {
  let rt: InProcessRuntime;
  beforeAll(async () => {
    rt = await startInProcess({
      label: 'dup',
      network: (url) => chainNetwork(url, 3),
      rules: [
        { when: hasTool('transfer_to_A2'), reply: { toolCalls: [{ name: 'transfer_to_A2', arguments: { reason: 'next' } }] } },
        { when: hasTool('transfer_to_A3'), reply: { toolCalls: [{ name: 'transfer_to_A3', arguments: { reason: 'next' } }] } },
        { when: systemIncludes('You are agent A3.'), reply: { content: 'end of chain' } },
      ],
    });
  });
  afterAll(() => rt.close());

  it('a turn result delivered again (as a coordinator job, e.g. a replay) changes nothing', async () => {
    const conversation = await rt.client.start({ agent: 'A1', input: 'go' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.path).toEqual(['A1', 'A2', 'A3']);
    const coordinatorQueue = coordinatorQueueOf(conversation.id, rt.redis, rt.prefix);
    // The first hop's result again (its worker's copy is spent once applied: this is a duplicate of it).
    const original = { data: { ...turn(conversation.id, 1, 'A1', { type: 'handoff', target: { type: 'agent', agent: 'A2' }, reason: 'next', source: 'llm_condition' }), epoch: (await conversation.status()).epoch } };
    expect(await rt.redis.exists(keyLayout(rt.prefix).turnResult(conversation.id))).toBe(0);
    const before = await rt.redis.lrange(`${rt.prefix}:conv:{${conversation.id}}:history`, 0, -1);
    const eventIds = async () => (await new EventLog(rt.redis, keyLayout(rt.prefix)).read(conversation.id, { count: 1_000 })).map((e) => e.id);
    const eventsBefore = await eventIds();

    const queueEvents = new QueueEvents(coordinatorQueueNameOf(conversation.id), { connection: createRedisConnection(redisUrl(), 'blocking'), prefix: queuePrefix(rt.prefix, coordinatorQueueNameOf(conversation.id)) });
    await queueEvents.waitUntilReady();
    const again = await coordinatorQueue.add('turn', original!.data, { jobId: 'redelivered-copy' });
    expect(await again.waitUntilFinished(queueEvents, 10_000)).toBe('redelivered');
    await queueEvents.close();
    expect(await rt.redis.lrange(`${rt.prefix}:conv:{${conversation.id}}:history`, 0, -1)).toEqual(before);
    expect(await eventIds()).toEqual(eventsBefore);
    expect(rt.model.requests).toHaveLength(3);
    await coordinatorQueue.close();
  });
});
