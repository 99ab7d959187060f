import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNetwork, defineTool, keyLayout, type RuntimeEvent } from '@handoff/core';
import { EventLog, TurnJournal, type JournalHop } from '@handoff/redis';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { openLane } from '../support/queues.js';
import { by, scriptedAgent, toolResults } from '../support/scripted-agents.js';

/** The turn journal's Redis steps, on a real Redis, against a conversation record written as the coordinator writes it. */
describe('TurnJournal', () => {
  const keys = keyLayout(uniquePrefix('journal-unit'));
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(() => redis.disconnect());

  /** A conversation waiting for hop 3 (applied up to 2), running, of incarnation e1. */
  const pending = async (id: string, status = 'running') => {
    await redis.hset(keys.conversation(id), { appliedSeq: 2, status, epoch: 'e1' });
  };
  const hopOf = (id: string, agent = 'Clerk'): JournalHop => ({ conversationId: id, hopId: `${id}.h3`, seq: 3, epoch: 'e1', agent });

  it('writes only while the hop is pending: a stale, cancelled, already reported or other-incarnation run can neither write nor claim', async () => {
    await pending('c1');
    const journal = new TurnJournal(redis, keys);
    expect(await journal.record(hopOf('c1'), 'r1.model', '{"a":1}')).toEqual({ status: 'written' });
    expect([...(await journal.read(hopOf('c1')))]).toEqual([['r1.model', '{"a":1}']]);
    // Another incarnation of the conversation id.
    expect(await journal.record({ ...hopOf('c1'), epoch: 'e0' }, 'r1.model', '{}')).toEqual({ status: 'stale' });
    // The hop was applied (a racing run reported it).
    await redis.hset(keys.conversation('c1'), 'appliedSeq', 3);
    expect(await journal.record(hopOf('c1'), 'r1.tool.call_1', '{}')).toEqual({ status: 'stale' });
    expect(await journal.claim(hopOf('c1'), 'r1.tool.call_1', 't', 1_000)).toEqual({ status: 'stale' });
    // A racing run of the hop stored its turn result (which deleted the journal): nothing may be written after it.
    await pending('c8');
    await redis.set(keys.turnResult('c8'), JSON.stringify({ kind: 'turn', conversationId: 'c8', hopId: 'c8.h3', seq: 3 }));
    expect(await journal.record(hopOf('c8'), 'r1.end', '1')).toEqual({ status: 'stale' });
    expect(await journal.claim(hopOf('c8'), 'r1.tool.call_1', 't', 1_000)).toEqual({ status: 'stale' });
    expect(await redis.exists(keys.turnJournal('c8'))).toBe(0);
    // A stored result of another hop does not stop this one.
    await redis.set(keys.turnResult('c8'), JSON.stringify({ kind: 'turn', conversationId: 'c8', hopId: 'c8.h33', seq: 33 }));
    expect(await journal.record(hopOf('c8'), 'r1.end', '1')).toEqual({ status: 'written' });
    // Cancelled while the turn ran.
    await pending('c2', 'cancelled');
    expect(await journal.record(hopOf('c2'), 'r1.model', '{}')).toEqual({ status: 'stale' });
    expect(await redis.exists(keys.turnJournal('c2'))).toBe(0);
  });

  it('the first entry of a step wins; a racing run gets it back to adopt', async () => {
    await pending('c3');
    const journal = new TurnJournal(redis, keys);
    expect(await journal.record(hopOf('c3'), 'r1.model', '"first"')).toEqual({ status: 'written' });
    expect(await journal.record(hopOf('c3'), 'r1.model', '"second"')).toEqual({ status: 'exists', value: '"first"' });
  });

  it('a fallback agent on the same hop id, or a later hop, starts a journal of its own', async () => {
    await pending('c4');
    const journal = new TurnJournal(redis, keys);
    await journal.record(hopOf('c4'), 'r1.model', '"clerk"');
    expect((await journal.read(hopOf('c4', 'Backup'))).size).toBe(0);
    expect(await journal.record(hopOf('c4', 'Backup'), 'r1.model', '"backup"')).toEqual({ status: 'written' });
    expect((await journal.read(hopOf('c4'))).size).toBe(0);
    expect(await journal.read(hopOf('c4', 'Backup'))).toEqual(new Map([['r1.model', '"backup"']]));
  });

  it('claims a tool call for one run: the other is told busy, then done with the result; the result drops the claim', async () => {
    await pending('c5');
    const journal = new TurnJournal(redis, keys);
    const hop = hopOf('c5');
    expect(await journal.claim(hop, 'r1.tool.call_1', 'run-a', 10_000)).toEqual({ status: 'claimed' });
    expect(await journal.claim(hop, 'r1.tool.call_1', 'run-b', 10_000)).toEqual({ status: 'busy' });
    expect(await journal.claim(hop, 'r1.tool.call_1', 'run-a', 10_000)).toEqual({ status: 'claimed' });
    expect(await journal.record(hop, 'r1.tool.call_1', '{"content":"ok","isError":false}', 'run-a')).toEqual({ status: 'written' });
    expect(await journal.claim(hop, 'r1.tool.call_1', 'run-b', 10_000)).toEqual({ status: 'done', value: '{"content":"ok","isError":false}' });
    expect((await redis.keys(`${keys.prefix}:conv:{c5}:claim:*`)).length).toBe(0);
    // A claim whose run died lapses.
    expect(await journal.claim(hop, 'r1.tool.call_2', 'run-a', 50)).toEqual({ status: 'claimed' });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await journal.claim(hop, 'r1.tool.call_2', 'run-b', 10_000)).toEqual({ status: 'claimed' });
    // A run that gives up (its turn was aborted) releases its claim.
    await journal.release(hop, 'r1.tool.call_2', 'run-b');
    expect(await journal.claim(hop, 'r1.tool.call_2', 'run-a', 10_000)).toEqual({ status: 'claimed' });
  });

  it('is bounded: an entry past the size limit is refused as full; it expires with the retention', async () => {
    await pending('c6');
    await pending('c7');
    // Even a journal whose first entry was refused expires.
    expect(await new TurnJournal(redis, keys, 3_600, 10).record(hopOf('c7'), 'r1.model', 'z'.repeat(20))).toEqual({ status: 'full' });
    expect(await redis.ttl(keys.turnJournal('c7'))).toBeGreaterThan(0);
    const journal = new TurnJournal(redis, keys, 3_600, 100);
    expect(await journal.record(hopOf('c6'), 'r1.model', 'x'.repeat(80))).toEqual({ status: 'written' });
    expect(await journal.record(hopOf('c6'), 'r1.tool.call_1', 'y'.repeat(30))).toEqual({ status: 'full' });
    const ttl = await redis.ttl(keys.turnJournal('c6'));
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);
  });
});

/**
 * An approved call is journaled (round 0) once it ran; a re-run of the resumed hop replays it and
 * does not run the tool again.
 */
describe('the turn journal and approvals', () => {
  let rt: InProcessRuntime;
  let refunds = 0;
  let release!: () => void;
  beforeAll(async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    const refund = defineTool({
      name: 'refund',
      description: 'Refund money',
      parameters: z.object({ amount: z.number() }),
      needsApproval: true,
      handler: ({ amount }, ctx) => {
        refunds++;
        return `refunded ${amount} (${ctx.idempotencyKey})`;
      },
    });
    rt = await startInProcess({
      label: 'journal-approval',
      network: (url) => defineNetwork({ name: 'journal-approval', agents: [scriptedAgent(url, 'Cashier', { tools: [refund] })] }),
      rules: [
        // The first answer after the approved call is held open until the test lets it go.
        { name: 'held answer', when: (req) => by('Cashier')(req) && toolResults(req).length > 0, times: 1, reply: (req) => ({ content: `results: ${toolResults(req).join(' | ')}`, hold: held }) },
        { name: 'answer', when: (req) => by('Cashier')(req) && toolResults(req).length > 0, reply: (req) => ({ content: `results: ${toolResults(req).join(' | ')}` }) },
        { name: 'ask', when: by('Cashier'), reply: { toolCalls: [{ name: 'refund', arguments: { amount: 500 } }] } },
      ],
    });
  });
  afterAll(async () => {
    release?.();
    await rt?.close();
  });

  it('runs the approved call once across two runs of the resumed hop', async () => {
    const conversation = await rt.client.start({ agent: 'Cashier', input: 'refund me' });
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'awaiting_user', waiting: { kind: 'approval' } });
    await conversation.approve();
    // The resumed hop ran the call, journaled it, and waits for the model.
    const deadline = Date.now() + 10_000;
    while (!rt.model.requests.some((req) => toolResults(req).length > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(refunds).toBe(1);
    const journal = await rt.redis.hgetall(keyLayout(rt.prefix).turnJournal(conversation.id));
    expect(Object.keys(journal).filter((field) => !field.startsWith('_')).sort()).toEqual(['r0.end', expect.stringMatching(/^r0\.tool\.call_\d+$/)]);

    // Another run of the same hop (as after a stall): it replays the result and answers.
    const lane = openLane('Cashier', rt.redis, rt.prefix);
    const [held] = await lane.activeIds();
    expect(held).toBeDefined();
    const payload = JSON.parse((await lane.payload(held!))!) as unknown;
    const outcome = await rt.workers.handlers.get('Cashier')!.handle(payload, { id: held, attemptsMade: 0, attemptsStarted: 2 });
    expect(outcome).toBe('turn-sent');
    const done = await conversation.result({ timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.output).toMatch(new RegExp(`^results: refunded 500 \\(${conversation.id}\\.h\\d+:call_\\d+\\)$`));
    expect(refunds).toBe(1);

    const events: RuntimeEvent[] = await new EventLog(rt.redis, keyLayout(rt.prefix)).readAll(conversation.id);
    const started = events.filter((e) => e.type === 'agent.started');
    expect(started.at(-1)).toMatchObject({ resumed: { round: 1, modelCalls: 0, toolResults: 1 } });
    expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(1);
  });
});
