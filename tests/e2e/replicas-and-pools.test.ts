import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HandoffClient } from '@handoff/client';
import { startScriptedModel, systemText, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { hopRunsOf } from '../support/queues.js';

const NETWORK = 'tests/e2e/networks/pool.ts';

/** Scaling out: replicas of one agent share its queue; a pool spreads work evenly across gateways. */
describe('replicas and pools across processes', () => {
  const prefix = uniquePrefix('replicas');
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];
  let soloWorkers: ManagedProcess[] = [];
  let client: HandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    model = await startScriptedModel({ rules: [{ reply: (req) => ({ content: `${/You are (\w+)\./.exec(systemText(req) ?? '')?.[1]} done`, delayMs: 100 }) }] });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const fast = ['--lock-duration', '1500', '--stalled-interval', '500'];
    soloWorkers = await Promise.all([1, 2, 3].map((i) => startHandoff(`solo ${i}`, ['worker', '--network', NETWORK, '--agents', 'Solo', '--concurrency', '8', ...fast], env)));
    processes = [
      ...soloWorkers,
      ...(await Promise.all([
        startHandoff('gateway 1', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--api-keys', 'replicas-test', ...fast], env),
        startHandoff('gateway 2', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--api-keys', 'replicas-test', ...fast], env),
        startHandoff('pool worker', ['worker', '--network', NETWORK, '--agents', 'W1,W2,W3'], env),
      ])),
    ];
    client = createClient({ redis: { url: redisUrl(), prefix } });
    redis = new Redis(redisUrl());
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    redis?.disconnect();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
  });

  it('shares one agent across 3 worker processes, all busy, and survives losing one', async () => {
    const callers = () => new Set(model.requests.map((r) => r.headers['x-handoff-worker']));
    const conversations = await Promise.all(Array.from({ length: 60 }, (_, i) => client.start({ agent: 'Solo', input: `job ${i}` })));
    // Every replica takes turns (the model sees which worker calls)...
    for (let i = 0; i < 100 && callers().size < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(callers().size).toBe(3);
    // ... and losing one of them mid-run does not stop the conversations.
    soloWorkers[0]!.kill('SIGKILL');
    const results = await Promise.all(conversations.map((c) => c.result({ timeoutMs: 30_000 })));
    expect(results.every((r) => r.status === 'completed' && r.output === 'Solo done')).toBe(true);
    // The turn that completed each conversation ran on a worker; at least two of them did the work.
    const lastRuns = await Promise.all(conversations.map(async (c) => (await hopRunsOf(redis, prefix, c.id, 1)).at(-1)));
    expect(lastRuns.every((run) => run?.workerId !== undefined)).toBe(true);
    expect(new Set(lastRuns.map((run) => run?.workerId)).size).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('round robin over 3 agents from 2 gateway replicas: 30 conversations split 10/10/10', async () => {
    const startsBefore = await startsByGateway();
    const conversations = await Promise.all(Array.from({ length: 30 }, (_, i) => client.start({ agent: 'pool', input: `pooled ${i}` })));
    const results = await Promise.all(conversations.map((c) => c.result({ timeoutMs: 30_000 })));
    const counts = ['W1', 'W2', 'W3'].map((agent) => results.filter((r) => r.agent === agent).length);
    for (const count of counts) expect(Math.abs(count - 10)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    // Both gateways took start commands off the inboxes (each counts the conversations it started).
    const startsAfter = await startsByGateway();
    const taken = startsAfter.map((n, i) => n - startsBefore[i]!);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(30);
    expect(taken.every((n) => n > 0)).toBe(true);
  }, 60_000);

  /** Conversations each gateway started so far, from its /metrics. */
  async function startsByGateway(): Promise<number[]> {
    const gateways = processes.slice(soloWorkers.length, soloWorkers.length + 2);
    return Promise.all(
      gateways.map(async (gateway) => {
        const line = gateway.lines.find((l) => l.includes('"msg":"http listening"'))!;
        const text = await (await fetch(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/metrics`)).text();
        return [...text.matchAll(/^handoff_conversations_started_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      }),
    );
  }
});
