import type { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  coordinatorQueueName,
  DEAD_LETTER_QUEUE,
  MAX_COORDINATOR_JOB_BYTES,
  MAX_ENVELOPE_BYTES,
  defineAgent,
  defineNetwork,
  hopId,
  hopJobId,
  keyLayout,
  turnResultJobId,
  type Envelope,
  type StoredEvent,
  type TurnResult,
} from '@handoff/core';
import { decideStart } from '@handoff/gateway';
import { ConversationStore, EventLog, HOP_JOB_OPTIONS, type DeadLetter, type HopLane } from '@handoff/redis';
import { lastUserText, systemIncludes } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { openLane, openQueue } from '../support/queues.js';
import { startMonitor } from '../support/monitor.js';
import { redisUrl } from '../support/env.js';

/**
 * Garbage and hostile jobs added straight to the runtime's BullMQ queues, bypassing the client:
 * each is dead-lettered with a coded error and its source queue, the conversation it names gets
 * an error event (and ends with the reason when it waited on that hop), and the gateway and
 * workers keep serving normal conversations afterwards.
 */
describe('poison input on the queues', () => {
  let rt: InProcessRuntime;
  let front: HopLane;
  let coordinator: Queue;
  let deadLetters: Queue;
  let store: ConversationStore;
  let eventLog: EventLog;
  let normalRuns = 0;

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'poison',
      network: (url) => {
        const model = { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 };
        return defineNetwork({
          name: 'poison',
          agents: [
            defineAgent({ name: 'Front', instructions: 'You are Front.', model, handoffs: ['Back'] }),
            defineAgent({ name: 'Back', instructions: 'You are Back.', model }),
          ],
        });
      },
      rules: [
        { when: systemIncludes('You are Front.'), reply: { toolCalls: [{ name: 'transfer_to_Back', arguments: { reason: 'over to Back' } }] } },
        { when: systemIncludes('You are Back.'), reply: { content: 'Back answers.' } },
      ],
    });
    front = openLane('Front', rt.redis, rt.prefix);
    // Partition 0 of the coordinator queue: where the garbage goes (the gateway consumes every partition).
    coordinator = openQueue(coordinatorQueueName(0), rt.redis, rt.prefix);
    deadLetters = openQueue(DEAD_LETTER_QUEUE, rt.redis, rt.prefix);
    store = new ConversationStore(rt.redis, keyLayout(rt.prefix));
    eventLog = new EventLog(rt.redis, keyLayout(rt.prefix));
  });
  afterAll(async () => {
    await Promise.all([coordinator?.close(), deadLetters?.close()]);
    await rt?.close();
  });

  /** The dead letter of job `jobId` from queue `source`, once it is there. */
  async function deadLetterOf(source: string, jobId: string): Promise<DeadLetter> {
    const id = `${source}.${jobId}`.replaceAll(':', '_');
    let job: Job | undefined;
    await waitFor(async () => (job = await deadLetters.getJob(id)) !== undefined, 10_000, `dead letter ${id}`);
    return job!.data as DeadLetter;
  }

  /** The events of a conversation so far (non-blocking read of its log). */
  const eventsOf = (conversationId: string): Promise<StoredEvent[]> => eventLog.read(conversationId, { count: 10_000 });

  async function errorEventsOf(conversationId: string, atLeast = 1): Promise<Extract<StoredEvent, { type: 'error' }>[]> {
    let errors: Extract<StoredEvent, { type: 'error' }>[] = [];
    await waitFor(async () => {
      errors = (await eventsOf(conversationId)).filter((e): e is Extract<StoredEvent, { type: 'error' }> => e.type === 'error');
      return errors.length >= atLeast;
    }, 10_000, `error event on ${conversationId}`);
    return errors;
  }

  /** A normal conversation still goes Front → Back and completes. */
  async function expectStillServing(): Promise<void> {
    normalRuns += 1;
    const input = `normal conversation ${normalRuns}`;
    const result = await (await rt.client.start({ agent: 'Front', input })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'Back answers.', path: ['Front', 'Back'] });
    expect(rt.model.requests.filter((r) => lastUserText(r) === input)).toHaveLength(2);
  }

  /** A conversation whose start is applied (record, history, events) but whose first hop was never published. */
  async function appliedStart(conversationId: string): Promise<void> {
    const decision = decideStart(rt.network, {
      schemaVersion: 1, kind: 'start', conversationId, entryAgent: 'Front', input: 'hi', context: {}, limits: {}, createdAt: Date.now(),
    });
    expect((await store.apply(decision.step)).outcome).toBe('applied');
  }

  /** A running conversation whose first hop's model call is held open until the returned function is called. */
  async function heldConversation(conversationId: string): Promise<() => void> {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const input = `held ${conversationId}`;
    rt.model.prependRule({ name: `hold ${conversationId}`, when: (req) => lastUserText(req) === input, times: 1, reply: { hold, content: 'late answer' } });
    const before = rt.model.requests.length;
    await rt.client.start({ agent: 'Front', input, conversationId });
    await waitFor(async () => rt.model.requests.slice(before).some((r) => lastUserText(r) === input), 10_000, 'held model request');
    expect((await store.read(conversationId))?.status).toBe('running');
    return release;
  }

  function envelopeFor(conversationId: string, overrides: Partial<Record<keyof Envelope, unknown>> = {}): Record<string, unknown> {
    return {
      schemaVersion: 1, conversationId, hopId: hopId(conversationId, 1), parentHopId: null, seq: 1, agent: 'Front', previousAgent: null,
      reason: 'entry', historyLength: 1, context: {}, path: ['Front'], budget: { maxHops: 10 }, usage: { promptTokens: 0, completionTokens: 0 },
      returnStack: [], createdAt: Date.now(), ...overrides,
    };
  }

  function turnFor(conversationId: string, outcome: TurnResult['outcome'], overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Date.now();
    return {
      schemaVersion: 1, kind: 'turn', conversationId, hopId: hopId(conversationId, 1), seq: 1, agent: 'Front', newMessages: [], outcome,
      usage: { promptTokens: 1, completionTokens: 1 }, attempt: 1, workerId: 'forged-worker',
      timing: { queuedAt: now, startedAt: now, firstModelCallAt: null, lastModelReturnAt: null, modelMs: 0, finishedAt: now }, ...overrides,
    };
  }

  const GARBAGE: [string, unknown][] = [
    ['string', 'hello'],
    ['number', 42],
    ['boolean', true],
    ['null', null],
    ['array', [1, 'two', { three: 3 }]],
    ['random-object', { foo: 'bar', nested: { deep: [null, false] }, kind: 'nonsense' }],
  ];

  it('dead-letters garbage on an agent queue with VALIDATION_FAILED and keeps serving', async () => {
    for (const [label, payload] of GARBAGE) await front.push(`garbage-agent-${label}`, JSON.stringify(payload));
    // Bytes that are not JSON at all.
    await front.push('garbage-agent-not-json', '{"conversationId": "c_cut');
    // Garbage that names a conversation: an error event on it too.
    const named = 'c_poison_agent_named';
    await front.push('garbage-agent-named', JSON.stringify({ conversationId: named, junk: true }));

    for (const [label, payload] of GARBAGE) {
      const letter = await deadLetterOf('agent.Front', `garbage-agent-${label}`);
      expect(letter).toMatchObject({ sourceQueue: 'agent.Front', jobId: `garbage-agent-${label}`, error: { code: 'VALIDATION_FAILED' } });
      expect(letter.payload).toEqual(payload);
      expect(letter.conversationId).toBeUndefined();
      expect(letter.error.message).toMatch(/^Envelope on queue "agent\.Front" is invalid: /);
    }
    const notJson = await deadLetterOf('agent.Front', 'garbage-agent-not-json');
    expect(notJson).toMatchObject({ sourceQueue: 'agent.Front', payload: '{"conversationId": "c_cut', error: { code: 'VALIDATION_FAILED' } });
    const letter = await deadLetterOf('agent.Front', 'garbage-agent-named');
    expect(letter).toMatchObject({ sourceQueue: 'agent.Front', conversationId: named, error: { code: 'VALIDATION_FAILED' } });
    // Each garbage hop left the lane once dead-lettered.
    await waitFor(async () => JSON.stringify(await front.counts()) === JSON.stringify({ waiting: 0, active: 0, retrying: 0, failed: 0 }), 10_000, 'Front\'s lane to empty');
    const [event] = await errorEventsOf(named);
    expect(event).toMatchObject({ type: 'error', agent: 'Front', conversationId: named, error: { code: 'VALIDATION_FAILED' } });

    await expectStillServing();
  });

  it('dead-letters garbage on the coordinator queue with VALIDATION_FAILED and keeps serving', async () => {
    for (const [label, payload] of GARBAGE) await coordinator.add('garbage', payload, { jobId: `garbage-coord-${label}` });
    const named = 'c_poison_coord_named';
    await coordinator.add('turn', { kind: 'turn', conversationId: named, seq: 'one' }, { jobId: 'garbage-coord-named' });

    for (const [label, payload] of GARBAGE) {
      const letter = await deadLetterOf(coordinatorQueueName(0), `garbage-coord-${label}`);
      expect(letter).toMatchObject({ sourceQueue: coordinatorQueueName(0), jobId: `garbage-coord-${label}`, error: { code: 'VALIDATION_FAILED' } });
      expect(letter.payload).toEqual(payload);
      expect(letter.error.message).toMatch(/^Coordinator job is invalid: /);
    }
    const letter = await deadLetterOf(coordinatorQueueName(0), 'garbage-coord-named');
    expect(letter).toMatchObject({ sourceQueue: coordinatorQueueName(0), conversationId: named, error: { code: 'VALIDATION_FAILED' } });
    const [event] = await errorEventsOf(named);
    expect(event).toMatchObject({ type: 'error', conversationId: named, error: { code: 'VALIDATION_FAILED' } });
    // Nothing was created for a conversation that only garbage named.
    expect(await store.read(named)).toBeNull();
    // The coordinator's jobs completed as dead-lettered: none is left failing or retrying.
    const done = await coordinator.getJob('garbage-coord-random-object');
    expect(done?.returnvalue).toBe('dead-lettered');
    expect(await coordinator.getJobCountByTypes('failed', 'delayed')).toBe(0);

    await expectStillServing();
  });

  it('dead-letters an envelope over 1 MiB (a huge context) with PAYLOAD_TOO_LARGE and ends its conversation', async () => {
    const blob = 'x'.repeat(MAX_ENVELOPE_BYTES + 1024);
    const conversation = await rt.client.start({ agent: 'Front', input: 'here is a lot of context', context: { blob } });
    const id = conversation.id;
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: MAX_ENVELOPE_BYTES } } });
    expect(result.error?.message).toMatch(/^Envelope on queue "agent\.Front" is \d+ bytes; the limit is 1048576\.$/);

    const letter = await deadLetterOf('agent.Front', hopJobId(hopId(id, 1), (await conversation.status()).epoch));
    expect(letter).toMatchObject({ sourceQueue: 'agent.Front', conversationId: id, error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((letter.payload as Envelope).context.blob).toHaveLength(blob.length);
    const errors = await errorEventsOf(id);
    expect(errors[0]).toMatchObject({ agent: 'Front', error: { code: 'PAYLOAD_TOO_LARGE' } });
    // The model was never called for it.
    expect(rt.model.requests.some((r) => lastUserText(r) === 'here is a lot of context')).toBe(false);

    await expectStillServing();
  });

  it('dead-letters an envelope of schemaVersion 2 with UNSUPPORTED_SCHEMA_VERSION and ends its conversation', async () => {
    const id = 'c_poison_envelope_v2';
    await appliedStart(id);
    await front.push(hopId(id, 1), JSON.stringify(envelopeFor(id, { schemaVersion: 2 })));

    const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'UNSUPPORTED_SCHEMA_VERSION', details: { found: 2, supported: 1 } } });
    const letter = await deadLetterOf('agent.Front', hopId(id, 1));
    expect(letter).toMatchObject({ sourceQueue: 'agent.Front', conversationId: id, error: { code: 'UNSUPPORTED_SCHEMA_VERSION' } });
    expect(letter.error.message).toMatch(/schemaVersion 2; this runtime reads version 1 only/);
    const errors = await errorEventsOf(id);
    expect(errors.every((e) => e.error.code === 'UNSUPPORTED_SCHEMA_VERSION')).toBe(true);
    const events = await eventsOf(id);
    expect(events.at(-1)?.type).toBe('conversation.failed');

    await expectStillServing();
  });

  it('dead-letters a turn result of schemaVersion 2 with UNSUPPORTED_SCHEMA_VERSION and ends the conversation waiting on it', async () => {
    const id = 'c_poison_turn_v2';
    const release = await heldConversation(id);
    try {
      // A newer worker's result for the pending hop, under the hop's deterministic turn-result id.
      await coordinator.add('turn', turnFor(id, { type: 'final', output: 'from the future' }, { schemaVersion: 2 }), {
        ...HOP_JOB_OPTIONS, jobId: turnResultJobId(hopId(id, 1)),
      });
      const letter = await deadLetterOf(coordinatorQueueName(0), turnResultJobId(hopId(id, 1)));
      expect(letter).toMatchObject({ sourceQueue: coordinatorQueueName(0), conversationId: id, error: { code: 'UNSUPPORTED_SCHEMA_VERSION', details: { found: 2 } } });
      const errors = await errorEventsOf(id);
      expect(errors[0]).toMatchObject({ error: { code: 'UNSUPPORTED_SCHEMA_VERSION' } });
      // Nothing of it was applied, and the conversation does not wait forever for a result that will not come.
      const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
      expect(result).toMatchObject({ status: 'failed', reason: 'error', output: null, error: { code: 'UNSUPPORTED_SCHEMA_VERSION' } });
      expect((await store.read(id))?.appliedSeq).toBe(0);
      const events = await eventsOf(id);
      expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'conversation.failed')).toHaveLength(1);
    } finally {
      release();
    }
    await expectStillServing();
  });

  it('ends a real conversation whose turn result hands off to an agent not in the network with UNKNOWN_AGENT', async () => {
    const id = 'c_poison_unknown_target';
    const release = await heldConversation(id);
    try {
      // The pending hop's result arrives first, forged: a handoff to "Ghost".
      await coordinator.add('turn', turnFor(id, { type: 'handoff', target: { type: 'agent', agent: 'Ghost' }, reason: 'spooky', source: 'tool' }), {
        ...HOP_JOB_OPTIONS, jobId: turnResultJobId(hopId(id, 1)),
      });
      const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
      expect(result).toMatchObject({ status: 'failed', reason: 'error', agent: 'Front', path: ['Front'], error: { code: 'UNKNOWN_AGENT', details: { agent: 'Ghost' } } });
      expect(result.error?.message).toMatch(/^Handoff from "Front": unknown agent "Ghost"\. The network has: .*Back/);
      expect(result.error?.details?.known).not.toContain('Ghost');
      const events = await eventsOf(id);
      expect(events.find((e) => e.type === 'error')).toMatchObject({ agent: 'Front', error: { code: 'UNKNOWN_AGENT' } });
      expect(events.some((e) => e.type === 'handoff')).toBe(false);
      expect(events.filter((e) => e.type === 'conversation.failed')).toHaveLength(1);
      // The turn was applied as a failure (not dead-lettered): the record moved past hop 1.
      expect((await store.read(id))?.appliedSeq).toBe(1);
      expect((await coordinator.getJob(turnResultJobId(hopId(id, 1))))?.returnvalue).toBe('applied');
      expect(await deadLetters.getJob(`${coordinatorQueueName(0)}.${turnResultJobId(hopId(id, 1))}`)).toBeUndefined();
    } finally {
      release();
    }
    // The real worker's own result for the hop, once released, changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await store.read(id)).toMatchObject({ status: 'failed', appliedSeq: 1, error: { code: 'UNKNOWN_AGENT' } });
    await expectStillServing();
  });

  it('refuses a start request over the coordinator job limit at the client, before anything is enqueued', async () => {
    const id = 'c_poison_too_big_start';
    const keys = keyLayout(rt.prefix);
    // Every command Redis runs meanwhile is seen here (the gateway would pop a pushed start at once).
    const monitor = await startMonitor(redisUrl());
    const blob = 'y'.repeat(MAX_COORDINATOR_JOB_BYTES + 1);
    await expect(rt.client.start({ agent: 'Front', input: 'big', context: { blob }, conversationId: id })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringMatching(/^Start request is \d+ bytes; the limit is 8388608\.$/),
      details: { limit: MAX_COORDINATOR_JOB_BYTES },
    });
    await monitor.stop();
    expect(monitor.commands.filter((c) => c.args.some((a) => a.includes(id)))).toEqual([]);
    expect(await rt.redis.zscore(keys.inFlight, id)).toBeNull();
    expect(await rt.redis.exists(keys.starting(id))).toBe(0);
    expect(await store.read(id)).toBeNull();
    expect(await rt.redis.exists(keyLayout(rt.prefix).events(id))).toBe(0);

    await expectStillServing();
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
