import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationHandle, HandoffClient } from '@handoff/client';
import { uniquePrefix } from '../support/env.js';
import { FAST_RECOVERY, type Deployment } from './support/deployment.js';
import { relayInput, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

const CONVERSATIONS = 200;
const WORKERS = 4;
const KILL_EVERY_MS = 2_000;
const BOUND_MS = 150_000;

/**
 * Chaos: 200 concurrent conversations of 4–6 hops (each model answer takes 1 s, so kills hit
 * turns in flight) across 4 worker processes while a random worker
 * is SIGKILLed every 2 s and a fresh one started. Every conversation must reach a terminal state,
 * and every transcript must hold exactly the hops it must contain — no entry twice, no hop twice.
 */
describe('chaos: workers killed every 2 s', () => {
  const prefix = uniquePrefix('chaos');
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;

  let runtime: RelayRuntime | undefined;

  beforeAll(async () => {
    runtime = await startRelayRuntime({ prefix, workers: WORKERS, modelDelayMs: 1_000, workerArgs: [...FAST_RECOVERY, '--max-stalled-count', '20', '--concurrency', '4'] });
    ({ deployment, client, redis } = runtime);
  }, 90_000);

  afterAll(() => runtime?.close());

  it('brings 200/200 conversations to a terminal state with exact transcripts', async () => {
    const plans = Array.from({ length: CONVERSATIONS }, (_, i) => ({ id: `x${i}`, hops: 4 + (i % 3) }));
    const handles: ConversationHandle[] = await Promise.all(plans.map((p) => client.start({ agent: 'R1', input: relayInput(p.id, p.hops) })));
    const results = Promise.all(handles.map((h) => h.result({ timeoutMs: BOUND_MS })));

    let kills = 0;
    let done = false;
    void results.finally(() => (done = true));
    const chaos = (async () => {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
        if (done) break;
        const alive = deployment.workers.filter((w) => w.running);
        const victim = alive[Math.floor(Math.random() * alive.length)];
        if (!victim) continue;
        victim.kill('SIGKILL');
        kills++;
        await victim.exited;
        await deployment.addWorker();
      }
    })();

    const finished = await results;
    await chaos;
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(finished.every((r) => r.status === 'completed' || r.status === 'failed')).toBe(true);

    const problems: string[] = [];
    let completed = 0;
    for (const [i, result] of finished.entries()) {
      const plan = plans[i]!;
      if (result.status === 'completed') {
        completed++;
        for (const p of await verifyRelay(redis, prefix, handles[i]!.id, plan.id, plan.hops)) problems.push(`${plan.id}: ${p}`);
      } else if (result.error?.code !== 'HOP_FAILED') {
        problems.push(`${plan.id}: failed with ${result.error?.code}: ${result.error?.message}`);
      }
    }
    console.info(`[chaos] ${kills} workers killed; ${completed}/${CONVERSATIONS} completed, ${CONVERSATIONS - completed} failed with HOP_FAILED`);
    expect(problems).toEqual([]);
    // With a stall limit of 20 a hop would have to lose its worker 21 times to fail.
    expect(completed).toBe(CONVERSATIONS);
  }, BOUND_MS + 30_000);
});
