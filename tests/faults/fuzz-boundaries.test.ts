import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartRequest } from '@handoff/client';
import {
  DEFAULT_COORDINATOR_PARTITIONS,
  coordinatorQueueName,
  ConversationRecord,
  CoordinatorJob,
  Envelope,
  ErrorCode,
  Message,
  RuntimeEvent,
  StartCommand,
  TurnResult,
  defineAgent,
  defineNetwork,
  hopId,
  isHandoffError,
  keyLayout,
  parseBoundary,
} from '@handoff/core';
import { decideStart } from '@handoff/gateway';
import { ConversationStore } from '@handoff/redis';
import { systemIncludes } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { openQueue } from '../support/queues.js';

/**
 * Property-based fuzzing of every schema-validated boundary, then of the real coordinator and
 * agent handlers on a real Redis: whatever arrives, parsing either returns a value the schema
 * accepts or throws a coded runtime error, and the handlers always resolve with one of their
 * documented outcomes — nothing crashes, nothing is left unhandled.
 */

// ---------------------------------------------------------------------------------------------
// Seeds of the mutations: real traffic harvested from a running network (so they follow the
// protocol as it is), plus hand-written messages and start requests.

const MESSAGES: Message[] = [
  { role: 'user', content: 'hello' },
  { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }], name: 'bob' },
  { role: 'system', content: 'Be helpful.' },
  { role: 'developer', content: 'Be brief.', name: 'ops' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'transfer_to_Back', arguments: '{"reason":"x"}' } }] },
  { role: 'assistant', content: 'Sure.' },
  { role: 'tool', tool_call_id: 'call_1', content: '{"assistant":"Back"}' },
];

const START_REQUESTS: unknown[] = [
  { input: 'hello' },
  { agent: 'Front', input: [MESSAGES[0]], context: { a: { b: [true, null] } }, limits: { maxHops: 2 }, conversationId: 'c_custom-1' },
];

/** A zod schema, as parseBoundary takes it (the tests package does not depend on zod itself). */
type Schema = Parameters<typeof parseBoundary>[0];

const BOUNDARIES: { name: string; schema: Schema }[] = [
  { name: 'Envelope', schema: Envelope },
  { name: 'TurnResult', schema: TurnResult },
  { name: 'StartCommand', schema: StartCommand },
  { name: 'CoordinatorJob', schema: CoordinatorJob },
  { name: 'Message', schema: Message },
  { name: 'RuntimeEvent', schema: RuntimeEvent },
  { name: 'ConversationRecord', schema: ConversationRecord },
  { name: 'StartRequest', schema: StartRequest },
];

// ---------------------------------------------------------------------------------------------
// Mutations: walk a random path into a valid value, then delete, replace or add something there.

interface Mutation {
  path: number[];
  op: 'delete' | 'replace' | 'add';
  key: string;
  value: unknown;
}

const KEYS = fc.oneof(
  fc.string(),
  fc.constantFrom('schemaVersion', 'kind', 'type', 'role', 'conversationId', 'hopId', 'seq', 'agent', '__proto__', 'constructor', 'toString', 'length'),
);

const mutation = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> =>
  fc.record({ path: fc.array(fc.nat(), { maxLength: 5 }), op: fc.constantFrom('delete', 'replace', 'add'), key: KEYS, value });

/** A plain object or array (what mutations walk into and change; typed arrays, boxed values and the like are left alone). */
function isContainer(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/**
 * A copy of a mutation's value, containers copied deep with their prototypes (null or not) and own
 * keys (`__proto__` too), anything else as it is. Values go in as copies: a later mutation that
 * walks into an inserted value changes the copy, never the generated value — fast-check runs one
 * case more than once (replays, shrinking), and a value changed in place can end up inside itself.
 */
function copyValue(value: unknown): unknown {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return value.map(copyValue);
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(value)) Object.defineProperty(copy, key, { value: copyValue(value[key]), enumerable: true, configurable: true, writable: true });
  return copy;
}

/** Applies one mutation to `root` (mutated in place when it is a container); returns the new root. */
function applyMutation(root: unknown, m: Mutation): unknown {
  let parent: Record<string, unknown> | undefined;
  let key: string | undefined;
  let node = root;
  for (const step of m.path) {
    if (!isContainer(node)) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    key = keys[step % keys.length]!;
    parent = node;
    node = node[key];
  }
  switch (m.op) {
    case 'delete':
      if (parent === undefined || key === undefined) return undefined;
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      return root;
    case 'replace':
      if (parent === undefined || key === undefined) return copyValue(m.value);
      parent[key] = copyValue(m.value);
      return root;
    case 'add':
      if (Array.isArray(node)) node.push(copyValue(m.value));
      // An own property even for "__proto__", as JSON.parse makes it.
      else if (isContainer(node)) Object.defineProperty(node, m.key, { value: copyValue(m.value), enumerable: true, configurable: true, writable: true });
      else if (parent !== undefined && key !== undefined) parent[key] = { [m.key]: copyValue(m.value) };
      return root;
  }
}

function mutate(sample: unknown, mutations: readonly Mutation[]): unknown {
  let value: unknown = structuredClone(sample);
  for (const m of mutations) value = applyMutation(value, m);
  return value;
}

/** Values as hostile as JavaScript allows (for parsing in-process). */
const HOSTILE = fc.anything({
  withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true,
  withObjectString: true, withSparseArray: true, withTypedArray: true, withUnicodeString: true,
});

/** A `length` with no primitive value: zod's min-length check used to throw a TypeError on it. */
const exoticLength = () => ({ length: Object.create(null) as object });
/** Inputs that once crashed parseBoundary; every run tries them first, then random ones. */
const PARSE_REGRESSIONS: unknown[] = [
  { schemaVersion: 10n },
  { schemaVersion: { n: [1n] } },
  { schemaVersion: 1, kind: 'start', conversationId: exoticLength(), entryAgent: exoticLength(), input: exoticLength() },
  { schemaVersion: 1, kind: 'turn', conversationId: exoticLength(), hopId: exoticLength(), agent: exoticLength() },
  { role: 'tool', tool_call_id: exoticLength(), content: 'x' },
  { agent: exoticLength(), input: exoticLength() },
];

const PARSE_ERROR_CODES: readonly string[] = [ErrorCode.VALIDATION_FAILED, ErrorCode.UNSUPPORTED_SCHEMA_VERSION];

/** Parses `value` at a boundary; fails the property unless it is accepted (re-parseable) or refused with a coded error. */
function checkBoundary(schema: Schema, value: unknown, tally: { accepted: number; refused: number }): void {
  let parsed: unknown;
  try {
    parsed = parseBoundary(schema, value, 'Fuzzed value');
  } catch (error) {
    if (!isHandoffError(error) || !PARSE_ERROR_CODES.includes(error.code)) {
      throw new Error(`parseBoundary threw something other than a coded parse error: ${String(error)}`, { cause: error });
    }
    expect(error.message).toMatch(/^Fuzzed value (is invalid: |has schemaVersion )/);
    tally.refused += 1;
    return;
  }
  expect(schema.safeParse(parsed).success).toBe(true);
  tally.accepted += 1;
}

const COORDINATOR_OUTCOMES = ['applied', 'redelivered', 'ignored', 'dead-lettered'];
const HOP_OUTCOMES = ['turn-sent', 'stale', 'dead-lettered'];

/** What BullMQ would hand a processor for `value` (it stores job data as JSON). */
function asJobData(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

describe('fuzzing the boundaries and the handlers', () => {
  let rt: InProcessRuntime;
  let store: ConversationStore;
  let counter = 0;
  const seeds = new Map<string, unknown[]>();
  const faults: { kind: string; error: unknown }[] = [];
  const onUnhandledRejection = (error: unknown) => faults.push({ kind: 'unhandledRejection', error });
  const onUncaughtException = (error: unknown) => faults.push({ kind: 'uncaughtException', error });
  const touched = new Set<string>();
  /** Templates of the handlers' payloads, taken from the harvested traffic. */
  let startTemplate: Record<string, unknown>;
  let envelopeTemplate: Record<string, unknown>;
  let turnTemplates: Record<string, unknown>[];

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandledRejection);
    process.on('uncaughtException', onUncaughtException);
    rt = await startInProcess({
      label: 'fuzz',
      network: (url) => {
        const model = { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 };
        return defineNetwork({
          name: 'fuzz',
          agents: [
            defineAgent({ name: 'Front', instructions: 'You are Front.', model, handoffs: ['Back'] }),
            defineAgent({ name: 'Back', instructions: 'You are Back.', model }),
            defineAgent({ name: 'Broken', instructions: 'You are Broken.', model }),
          ],
        });
      },
      rules: [
        { when: systemIncludes('You are Front.'), reply: { content: 'Passing you on. ', toolCalls: [{ name: 'transfer_to_Back', arguments: { reason: 'fuzz' } }] } },
        { when: systemIncludes('You are Back.'), reply: { content: 'Back answers.' } },
        { when: systemIncludes('You are Broken.'), reply: { error: { status: 503, message: 'down' } } },
      ],
    });
    store = new ConversationStore(rt.redis, keyLayout(rt.prefix));

    // Real traffic: a handoff, a start with prior messages and context, a failed turn. Starts and
    // turn results reach the coordinator through the inboxes (spent once applied): a tap on its handler keeps them.
    const turnResults: Record<string, unknown>[] = [];
    const starts: Record<string, unknown>[] = [];
    const coordinator = rt.gateway.coordinator;
    const handle = coordinator.handle.bind(coordinator);
    coordinator.handle = async (payload, ...rest) => {
      const kind = (payload as { kind?: unknown }).kind;
      if (kind === 'turn') turnResults.push(structuredClone(payload) as Record<string, unknown>);
      if (kind === 'start') starts.push(structuredClone(payload) as Record<string, unknown>);
      return handle(payload, ...rest);
    };
    // Hop envelopes leave their lane once run: a tap on each agent's handler keeps them.
    const envelopes: Record<string, unknown>[] = [];
    const untaps: (() => void)[] = [];
    for (const worker of rt.workers.handlers.values()) {
      const run = worker.handle.bind(worker);
      worker.handle = async (payload, ...rest) => {
        envelopes.push(structuredClone(payload) as Record<string, unknown>);
        return run(payload, ...rest);
      };
      untaps.push(() => (worker.handle = run));
    }
    const conversations = await Promise.all([
      rt.client.start({ agent: 'Front', input: 'first question', context: { tier: 'gold', tags: ['a', 'b'] } }),
      rt.client.start({ agent: 'Front', input: [MESSAGES[2]!, MESSAGES[0]!, MESSAGES[5]!, MESSAGES[1]!], limits: { maxHops: 4 } }),
      rt.client.start({ agent: 'Broken', input: 'are you up?' }),
    ]);
    for (const conversation of conversations) await conversation.result({ timeoutMs: 10_000 });
    coordinator.handle = handle;
    for (const untap of untaps) untap();
    const jobData = async (queue: string) => {
      const q = openQueue(queue, rt.redis, rt.prefix);
      try {
        return (await q.getJobs(['completed'])).map((job) => job.data as Record<string, unknown>);
      } finally {
        await q.close();
      }
    };
    const coordinatorJobs = (await Promise.all(Array.from({ length: DEFAULT_COORDINATOR_PARTITIONS }, (_, p) => jobData(coordinatorQueueName(p))))).flat();
    const events: unknown[] = [];
    const records: unknown[] = [];
    const messages: unknown[] = [...MESSAGES];
    for (const { id } of conversations) {
      for await (const event of rt.client.conversation(id).events()) {
        const { id: _streamId, ...plain } = event;
        events.push(plain);
      }
      records.push(await store.read(id));
      messages.push(...(await store.history(id)));
    }
    seeds.set('Envelope', envelopes);
    seeds.set('TurnResult', turnResults);
    seeds.set('StartCommand', starts);
    seeds.set('CoordinatorJob', [...coordinatorJobs, ...starts, ...turnResults]);
    seeds.set('Message', messages);
    seeds.set('RuntimeEvent', events);
    seeds.set('ConversationRecord', records);
    seeds.set('StartRequest', START_REQUESTS);

    startTemplate = (seeds.get('StartCommand') as Record<string, unknown>[]).find((c) => c.entryAgent === 'Front' && typeof c.input === 'string')!;
    envelopeTemplate = envelopes.find((e) => e.conversationId === startTemplate.conversationId && e.seq === 1)!;
    turnTemplates = (seeds.get('TurnResult') as Record<string, unknown>[]).filter((t) => t.seq === 1);
  });
  afterAll(async () => {
    await rt?.close();
    process.off('unhandledRejection', onUnhandledRejection);
    process.off('uncaughtException', onUncaughtException);
  });

  it('harvested the variety the mutations start from', () => {
    expect(seeds.get('Envelope')!.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seeds.get('TurnResult')!.map((t) => (t as { outcome: { type: string } }).outcome.type))).toEqual(new Set(['handoff', 'final', 'failed']));
    expect(seeds.get('StartCommand')).toHaveLength(3);
    const eventTypes = new Set(seeds.get('RuntimeEvent')!.map((e) => (e as { type: string }).type));
    for (const type of ['conversation.started', 'agent.started', 'text.delta', 'tool.called', 'tool.result', 'agent.completed', 'handoff', 'error', 'conversation.completed', 'conversation.failed']) {
      expect(eventTypes.has(type), type).toBe(true);
    }
    expect(new Set(seeds.get('ConversationRecord')!.map((r) => (r as { status: string }).status))).toEqual(new Set(['completed', 'failed']));
    expect(startTemplate).toBeDefined();
    expect(envelopeTemplate).toBeDefined();
    expect(turnTemplates.length).toBeGreaterThanOrEqual(3);
  });

  it.each(BOUNDARIES)('every seed of $name is valid', ({ name, schema }) => {
    for (const seed of seeds.get(name)!) expect(schema.safeParse(seed).error).toBeUndefined();
  });

  it.each(BOUNDARIES)('$name: parseBoundary accepts or refuses with a coded error, never crashes', ({ name, schema }) => {
    const samples = seeds.get(name)!;
    const anything = { accepted: 0, refused: 0 };
    fc.assert(fc.property(fc.oneof(fc.anything(), HOSTILE), (value) => checkBoundary(schema, value, anything)), {
      numRuns: 1000,
      examples: PARSE_REGRESSIONS.map((value) => [value] as [unknown]),
    });
    const json = { accepted: 0, refused: 0 };
    fc.assert(fc.property(fc.json(), (text) => checkBoundary(schema, JSON.parse(text), json)), { numRuns: 1000 });
    const mutated = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.array(mutation(fc.oneof(fc.anything(), HOSTILE, fc.jsonValue())), { minLength: 1, maxLength: 3 }), (sample, mutations) =>
        checkBoundary(schema, mutate(sample, mutations), mutated)),
      { numRuns: 1000 },
    );
    const unchanged = { accepted: 0, refused: 0 };
    for (const sample of samples) checkBoundary(schema, structuredClone(sample), unchanged);

    // The fuzzing reached both sides: mutated valid values are sometimes still valid, and refused otherwise.
    expect(anything.refused).toBeGreaterThan(900 + PARSE_REGRESSIONS.length);
    expect(mutated.accepted).toBeGreaterThan(0);
    expect(mutated.refused).toBeGreaterThan(100);
    expect(unchanged).toEqual({ accepted: samples.length, refused: 0 });
  });

  /** A fresh conversation whose start is applied and whose first hop (Front) is due but was never published. */
  async function pendingConversation(): Promise<string> {
    const id = `c_fuzz${++counter}`;
    touched.add(id);
    const command = parseBoundary(StartCommand, { ...startTemplate, conversationId: id, createdAt: Date.now() }, 'Fixture start');
    const decision = decideStart(rt.network, command);
    expect((await store.apply(decision.step)).outcome).toBe('applied');
    epochs.set(id, decision.record.epoch);
    return id;
  }
  /** The incarnation of each conversation the fuzzer started (its hops must carry it to be current). */
  const epochs = new Map<string, string>();

  /** The harvested Front hop-1 envelope (of the conversation `startTemplate` started), re-pointed at `conversationId`. */
  const envelopeOf = (conversationId: string): Record<string, unknown> => ({ ...structuredClone(envelopeTemplate), conversationId, hopId: hopId(conversationId, 1), epoch: epochs.get(conversationId) ?? 'unknown', createdAt: Date.now() });
  /** A harvested hop-1 turn result, re-pointed at `conversationId` and made Front's. */
  const turnOf = (template: Record<string, unknown>, conversationId: string): Record<string, unknown> => ({ ...structuredClone(template), conversationId, hopId: hopId(conversationId, 1), agent: 'Front' });

  /** Values that have broken ids and counters before: separators, integers as strings, empty, huge. */
  const TRICKY = fc.constantFrom<unknown>('x:y', 'c_fuzz1:h1', 'a.h1.turn', '42', '', ' ', '{tag}', '__proto__', 0, -1, 1.5, 2 ** 31, 1e308, null, true, {}, []);
  const jsonMutations = fc.array(mutation(fc.oneof(fc.jsonValue(), TRICKY)), { maxLength: 3 });
  /** Mutations of the identity fields only (conversation, hop, seq, agent), with tricky or random values. */
  const idMutations = fc.array(
    fc.record({
      path: fc.constant([] as number[]), op: fc.constant('add' as const),
      key: fc.constantFrom('conversationId', 'hopId', 'seq', 'agent', 'parentHopId', 'entryAgent'),
      value: fc.oneof({ arbitrary: TRICKY, weight: 2 }, fc.string({ unit: fc.constantFrom('a', '1', ':', '.', '_', '-', '{', '}') }), fc.integer()),
    }),
    { minLength: 1, maxLength: 2 },
  );
  const rawJson = fc.oneof(fc.jsonValue(), fc.json().map((text) => JSON.parse(text) as unknown));

  it('coordinator.handle resolves with a documented outcome for any payload', async () => {
    const outcomes = new Map<string, number>();
    const cases = fc.oneof(
      fc.record({ kind: fc.constant('json' as const), value: rawJson }),
      fc.record({ kind: fc.constant('start' as const), mutations: fc.oneof(jsonMutations, idMutations) }),
      fc.record({ kind: fc.constant('turn' as const), template: fc.nat(), mutations: fc.oneof(jsonMutations, idMutations) }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        let payload: unknown;
        if (c.kind === 'json') payload = c.value;
        else if (c.kind === 'start') {
          const id = `c_fuzzstart${++counter}`;
          touched.add(id);
          payload = mutate({ ...startTemplate, conversationId: id }, c.mutations);
        } else {
          const id = await pendingConversation();
          payload = mutate(turnOf(turnTemplates[c.template % turnTemplates.length]!, id), c.mutations);
        }
        const outcome = await rt.gateway.coordinator.handle(asJobData(payload));
        expect(COORDINATOR_OUTCOMES).toContain(outcome);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      {
        numRuns: 400,
        // Once rejected: a start whose id BullMQ cannot use as a job id (it has a ':').
        examples: [[{ kind: 'start', mutations: [{ path: [], op: 'add', key: 'conversationId', value: 'x:y' }] }]],
      },
    );
    expect(outcomes.get('applied')).toBeGreaterThan(0);
    expect(outcomes.get('dead-lettered')).toBeGreaterThan(0);
    expect(faults).toEqual([]);
  });

  it('an agent handler resolves with a documented outcome for any payload', async () => {
    const outcomes = new Map<string, number>();
    const handler = rt.workers.handlers.get('Front')!;
    const cases = fc.oneof(
      fc.record({ kind: fc.constant('json' as const), value: rawJson }),
      fc.record({ kind: fc.constant('envelope' as const), mutations: fc.oneof(jsonMutations, idMutations) }),
      fc.record({ kind: fc.constant('unknown-conversation' as const), mutations: jsonMutations }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        let payload: unknown;
        if (c.kind === 'json') payload = c.value;
        else if (c.kind === 'envelope') payload = mutate(envelopeOf(await pendingConversation()), c.mutations);
        else payload = mutate(envelopeOf(`c_nobody${++counter}`), c.mutations);
        const outcome = await handler.handle(asJobData(payload), { id: `fuzz-${++counter}`, attemptsMade: 0 });
        expect(HOP_OUTCOMES).toContain(outcome);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      {
        numRuns: 400,
        // Once rejected: hop ids BullMQ cannot use for the turn result's job id.
        examples: [
          [{ kind: 'envelope', mutations: [{ path: [], op: 'add', key: 'hopId', value: 'x:y' }] }],
          [{ kind: 'json', value: { conversationId: 'c_named', hopId: 'a:b', seq: 1 } }],
          [{ kind: 'json', value: { conversationId: 'x:y', hopId: 'x:y.h1', seq: 1 } }],
        ],
      },
    );
    for (const expected of HOP_OUTCOMES) expect(outcomes.get(expected), expected).toBeGreaterThan(0);
    expect(faults).toEqual([]);
  });

  it('leaves every conversation it touched readable, and the runtime still serving', async () => {
    // Let the background workers and coordinator finish what the fuzzed payloads set going.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const statuses = new Set<string>();
    for (const id of touched) {
      const record = await store.read(id); // throws if the fuzzing left a record that does not decode
      if (record) statuses.add(record.status);
    }
    // Fuzzed payloads both finished conversations and failed them.
    expect([...statuses]).toEqual(expect.arrayContaining(['completed', 'failed']));
    const result = await (await rt.client.start({ agent: 'Front', input: 'after the fuzzing' })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'Back answers.', path: ['Front', 'Back'] });
    expect(faults).toEqual([]);
  });
});
