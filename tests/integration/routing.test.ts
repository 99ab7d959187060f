import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyLayout, capabilityRouter, defineNetwork, pool, to, type RoutingStrategy, type StoredEvent } from '@handoff/core';
import { addDeadLetter, listDeadLetters, QueueSet, replayDeadLetter } from '@handoff/redis';
import { lastUserText, systemText } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { by, call, scriptedAgent, when } from '../support/scripted-agents.js';
import { openLane } from '../support/queues.js';

async function eventsOf(rt: InProcessRuntime, id: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of rt.client.conversation(id).events({ timeoutMs: 10_000 })) events.push(event);
  return events;
}

/** Always the last candidate: a custom strategy on the same interface as the built-ins. */
const lastOne: RoutingStrategy = { name: 'last_one', select: (req) => ({ agent: req.candidates.at(-1)!, reason: 'custom: the last candidate' }) };

/** The coordinator's routing policies on a real Redis, each saying what it decided and why. */
describe('routing policies', () => {
  let rt: InProcessRuntime;
  let classifications = 0;

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'routing',
      // Ghost has no worker: health routes around it.
      // Lonely has no worker and no fallback: a handoff to it waits on its queue.
      agents: ['P1', 'P2', 'P3', 'Primary', 'Backup', 'Backup2', 'Alive', 'Coder', 'Designer', 'General', 'Ping', 'Pong', 'Spender', 'Slow', 'Busy', 'Caller'],
      network: (url) =>
        defineNetwork({
          name: 'routing',
          model: { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 },
          routers: {
            rr: pool(['P1', 'P2', 'P3'], 'round_robin'),
            least: pool(['P1', 'P2', 'P3'], 'least_loaded'),
            weighted: pool(['P1', 'P2', 'P3'], 'weighted', { P1: 0, P2: 0, P3: 1 }),
            custom: pool(['P1', 'P2', 'P3'], lastOne),
            byKeyword: capabilityRouter({ capabilities: { coding: 'Coder', design: 'Designer' }, default: 'General', classify: { keywords: { coding: ['code', 'bug'], design: ['ui', 'logo'] } } }),
            byFunction: capabilityRouter({ capabilities: { coding: 'Coder' }, default: 'General', classify: (text) => (text.includes('compile') ? 'coding' : undefined) }),
            byModel: capabilityRouter({ capabilities: { coding: 'Coder', design: 'Designer' }, default: 'General', classify: { model: true } }),
          },
          agents: [
            ...['P1', 'P2', 'P3', 'Backup', 'Backup2', 'Alive', 'Coder', 'Designer', 'General', 'Slow', 'Busy'].map((name) => scriptedAgent(url, name)),
            scriptedAgent(url, 'Primary', { fallbacks: ['Backup', 'Backup2'] }),
            scriptedAgent(url, 'Ghost', { fallbacks: ['Alive'] }),
            scriptedAgent(url, 'Lonely'),
            scriptedAgent(url, 'Caller', { handoffs: ['Lonely'] }),
            scriptedAgent(url, 'Ping', { handoffs: ['Pong'] }),
            scriptedAgent(url, 'Pong', { handoffs: ['Ping'] }),
            scriptedAgent(url, 'Spender', { handoffs: [{ target: to.stay(), toolName: 'again' }] }),
          ],
        }),
      rules: [
        { name: 'classifier', when: (req) => (systemText(req) ?? '').startsWith('Classify the request.'), reply: (req) => (classifications++, { content: /button|colour/.test(lastUserText(req) ?? '') ? 'design' : 'none' }) },
        when('Primary', { error: { status: 500, message: 'primary is broken' } }),
        when('Backup', (req) => (lastUserText(req) === 'both broken' ? { error: { status: 503, message: 'backup down too' } } : { content: 'Backup answered.' })),
        when('Backup2', { error: { status: 500, message: 'backup2 down' } }),
        when('Ping', call('transfer_to_Pong')),
        when('Pong', call('transfer_to_Ping')),
        when('Caller', call('transfer_to_Lonely', { reason: 'delivery question' })),
        when('Spender', { ...call('again'), usage: { prompt_tokens: 400, completion_tokens: 100 } }),
        when('Slow', { content: 'never', hang: true }),
        ...['P1', 'P2', 'P3', 'Alive', 'Coder', 'Designer', 'General', 'Busy'].map((name) => when(name, { content: `${name} here.` })),
      ],
    });
  });
  afterAll(() => rt.close());

  const run = async (agent: string, input: string, extra: Parameters<InProcessRuntime['client']['start']>[0] = { input }) => {
    const conversation = await rt.client.start({ ...extra, agent, input });
    return { conversation, result: await conversation.result({ timeoutMs: 15_000 }) };
  };

  it('round robin spreads conversations evenly over a pool', async () => {
    const agents: (string | null)[] = [];
    for (let i = 0; i < 9; i++) agents.push((await run('rr', `rr ${i}`)).result.agent);
    expect(['P1', 'P2', 'P3'].map((a) => agents.filter((x) => x === a).length)).toEqual([3, 3, 3]);
  });

  it('least loaded picks the agent with the fewest hops queued', async () => {
    const queues = new QueueSet(rt.redis, rt.prefix);
    // Hops held by workers elsewhere: 2 on P1, 1 on P2 (leases that outlast the test).
    const busy = { P1: ['x1', 'x2'], P2: ['x3'] };
    for (const [agent, ids] of Object.entries(busy)) for (const id of ids) await rt.redis.zadd(queues.lane(agent).keys.leases, Date.now() + 600_000, id);
    const { result, conversation } = await run('least', 'who is free?');
    expect(result.agent).toBe('P3');
    const decided = (await eventsOf(rt, conversation.id)).find((e) => e.type === 'routing.decided');
    expect(decided).toMatchObject({ router: 'least', strategy: 'least_loaded', agent: 'P3', details: { loads: { P1: 2, P2: 1, P3: 0 } } });
    for (const [agent, ids] of Object.entries(busy)) await rt.redis.zrem(queues.lane(agent).keys.leases, ...ids);
    await queues.close();
  });

  it('weighted and custom strategies pick by their own rule', async () => {
    for (let i = 0; i < 4; i++) expect((await run('weighted', `w ${i}`)).result.agent).toBe('P3');
    const { result, conversation } = await run('custom', 'custom please');
    expect(result.agent).toBe('P3');
    expect((await eventsOf(rt, conversation.id)).find((e) => e.type === 'routing.decided')).toMatchObject({ strategy: 'last_one', reason: 'custom: the last candidate' });
  });

  it('capability routing by keywords, by a function, and by the model — with the classification cached', async () => {
    expect((await run('byKeyword', 'there is a bug in my code')).result.agent).toBe('Coder');
    expect((await run('byKeyword', 'make the logo bigger')).result.agent).toBe('Designer');
    expect((await run('byKeyword', 'what time is it')).result.agent).toBe('General');
    expect((await run('byFunction', 'it does not compile')).result.agent).toBe('Coder');
    const first = await run('byModel', 'change the button colour');
    expect(first.result.agent).toBe('Designer');
    expect((await eventsOf(rt, first.conversation.id)).find((e) => e.type === 'routing.decided')).toMatchObject({ router: 'byModel', strategy: 'capability', reason: 'required capability: design' });
    const before = classifications;
    expect((await run('byModel', 'change the button colour')).result.agent).toBe('Designer');
    expect(classifications).toBe(before); // cached
  });

  it('falls back to the next agent when a turn fails, with the failure and the fallback in the events', async () => {
    const { result, conversation } = await run('Primary', 'please help');
    expect(result).toMatchObject({ status: 'completed', agent: 'Backup', output: 'Backup answered.', path: ['Primary', 'Backup'] });
    const events = await eventsOf(rt, conversation.id);
    expect(events.find((e) => e.type === 'error')).toMatchObject({ agent: 'Primary', error: { code: 'MODEL_UNAVAILABLE' } });
    expect(events.find((e) => e.type === 'fallback')).toMatchObject({ from: 'Primary', to: 'Backup', attempt: 1, error: { code: 'MODEL_UNAVAILABLE' } });
  });

  it('ends with every failure listed when the whole fallback list fails', async () => {
    const { result } = await run('Primary', 'both broken');
    expect(result).toMatchObject({ status: 'failed', reason: 'all_fallbacks_failed', path: ['Primary', 'Backup', 'Backup2'], error: { code: 'ALL_FALLBACKS_FAILED' } });
    expect((result.error?.details?.failures as { agent: string }[]).map((f) => f.agent)).toEqual(['Primary', 'Backup', 'Backup2']);
  });

  it('routes around an agent with no live worker, at once', async () => {
    const started = Date.now();
    const { result, conversation } = await run('Ghost', 'anyone there?');
    expect(result).toMatchObject({ status: 'completed', agent: 'Alive', path: ['Alive'] });
    expect(Date.now() - started).toBeLessThan(2_000);
    const events = await eventsOf(rt, conversation.id);
    expect(events.find((e) => e.type === 'routing.decided')).toMatchObject({ strategy: 'health', agent: 'Alive', details: { unavailable: 'Ghost' } });
    // The conversation starts first; what routing decided on the way to its entry agent comes after.
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['conversation.started', 'routing.decided']);
  });

  it('hands off to an agent with no live worker and no fallback as decided, with a warning that the hop waits', async () => {
    const conversation = await rt.client.start({ agent: 'Caller', input: 'where is my parcel?' });
    const seen: StoredEvent[] = [];
    for await (const event of conversation.events({ timeoutMs: 10_000 })) {
      seen.push(event);
      if (event.type === 'handoff') break;
    }
    expect(seen.find((e) => e.type === 'warning')).toMatchObject({ message: 'agent "Lonely" has no live worker; the hop waits on its queue until one starts' });
    const handoff = seen.find((e) => e.type === 'handoff');
    expect(handoff).toMatchObject({ from: 'Caller', to: 'Lonely', reason: 'delivery question' });
    expect(handoff).not.toMatchObject({ source: 'health' });
    await conversation.cancel('test over');
  });

  it('ends a ping-pong with its own reason', async () => {
    const { result } = await run('Ping', 'serve');
    expect(result).toMatchObject({ status: 'failed', reason: 'ping_pong_detected', error: { code: 'PING_PONG_DETECTED', details: { maxPingPong: 6 } } });
    expect(result.path).toHaveLength(7);
  });

  it('caps visits per agent, the token budget and the deadline, each with its own reason', async () => {
    const visits = await run('Ping', 'few visits', { input: 'x', limits: { maxVisitsPerAgent: 2, maxPingPong: 100 } });
    expect(visits.result).toMatchObject({ reason: 'max_visits_exceeded', path: ['Ping', 'Pong', 'Ping', 'Pong'] });
    const tokens = await run('Spender', 'spend', { input: 'x', limits: { maxTokens: 1_200 } });
    expect(tokens.result).toMatchObject({ status: 'failed', reason: 'token_budget_exceeded', usage: { promptTokens: 1_200, completionTokens: 300 } });
    const started = Date.now();
    const deadline = await run('Slow', 'slow', { input: 'x', limits: { deadlineMs: 700 } });
    expect(deadline.result).toMatchObject({ status: 'failed', reason: 'deadline_exceeded', error: { code: 'DEADLINE_EXCEEDED' } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels a conversation: its in-flight model call is aborted and it ends cancelled', async () => {
    const conversation = await rt.client.start({ agent: 'Slow', input: 'take your time' });
    await rt.model.waitForRequests(rt.model.requests.length + 1, 5_000).catch(() => undefined);
    const request = () => rt.model.requests.find((r) => by('Slow')(r) && lastUserText(r) === 'take your time');
    for (let i = 0; i < 50 && !request(); i++) await new Promise((r) => setTimeout(r, 20));
    await conversation.cancel('the user left');
    const result = await conversation.result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled', error: { code: 'CANCELLED', message: 'Cancelled: the user left' } });
    for (let i = 0; i < 100 && request()?.abortedAtHr === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    expect(request()?.abortedAtHr).toBeDefined();
    const events = await eventsOf(rt, conversation.id);
    expect(events.at(-1)?.type).toBe('conversation.cancelled');
  });

  it('refuses new conversations for an agent whose queue is over its limit', async () => {
    const limited = await startInProcess({
      label: 'backpressure',
      // Only Idle has a worker, so Busy's hops stay queued.
      agents: ['Idle'],
      network: (url) => defineNetwork({ name: 'bp', agents: [scriptedAgent(url, 'Busy', { maxWaiting: 3 }), scriptedAgent(url, 'Idle')] }),
      rules: [],
    });
    try {
      const lane = openLane('Busy', limited.redis, limited.prefix);
      // One at a time: a start counts from its admission until its first hop is queued (for a few ms it may count twice, never zero times).
      for (let i = 0; i < 3; i++) {
        await limited.client.start({ agent: 'Busy', input: `q ${i}` });
        for (let t = 0; t < 100 && ((await lane.counts()).waiting < i + 1 || (await limited.redis.zcard(keyLayout(limited.prefix).admission('Busy'))) > 0); t++) await new Promise((r) => setTimeout(r, 20));
      }
      await expect(limited.client.start({ agent: 'Busy', input: 'one more' })).rejects.toMatchObject({ code: 'OVERLOADED', retryable: true, details: { agent: 'Busy', waiting: 3, limit: 3 } });
    } finally {
      await limited.close();
    }
  });

  it('lists dead letters and replays one onto its source queue', async () => {
    const queues = new QueueSet(rt.redis, rt.prefix);
    // A worker dead-letters a job it cannot read.
    await rt.workers.handlers.get('Alive')!.handle({ not: 'an envelope' }, { id: 'poison-1', attemptsMade: 0 });
    const letter = (await listDeadLetters(queues)).find((l) => l.jobId === 'poison-1');
    expect(letter).toMatchObject({ sourceQueue: 'agent.Alive', payload: { not: 'an envelope' }, error: { code: 'VALIDATION_FAILED' } });
    // Replay it onto a queue nobody serves, so it stays there to be looked at.
    await addDeadLetter(queues, { sourceQueue: 'agent.Ghost', jobId: 'poison-2', conversationId: undefined, error: letter!.error, payload: { fixed: true } });
    const ghostLetter = (await listDeadLetters(queues)).find((l) => l.jobId === 'poison-2')!;
    expect(await replayDeadLetter(queues, ghostLetter.id)).toBe('poison-2');
    expect(JSON.parse((await queues.lane('Ghost').payload('poison-2'))!)).toEqual({ fixed: true });
    expect(await queues.lane('Ghost').state('poison-2')).toBe('waiting');
    expect((await listDeadLetters(queues)).some((l) => l.id === ghostLetter.id)).toBe(false);
    await expect(replayDeadLetter(queues, 'no-such-letter')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await queues.close();
  });
});
