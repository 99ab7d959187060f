import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '@handoff/client';
import { uniquePrefix } from '../support/env.js';
import type { Deployment } from './support/deployment.js';
import { relayInput, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

/** The gateway SIGKILLed mid-run and restarted: nothing is lost, nothing applied twice. */
describe('the gateway killed mid-run', () => {
  const prefix = uniquePrefix('gwkill');
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;

  let runtime: RelayRuntime | undefined;

  beforeAll(async () => {
    runtime = await startRelayRuntime({ prefix, workers: 2, modelDelayMs: 100 });
    ({ deployment, client, redis } = runtime);
  }, 60_000);

  afterAll(() => runtime?.close());

  it('finishes every conversation after the gateway comes back', async () => {
    const plans = Array.from({ length: 40 }, (_, i) => ({ id: `g${i}`, hops: 4 + (i % 3) }));
    const handles = await Promise.all(plans.map((p) => client.start({ agent: 'R1', input: relayInput(p.id, p.hops) })));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const runningAtKill = (await Promise.all(handles.map((h) => h.status()))).filter((r) => r.status === 'running').length;
    deployment.gateway.kill('SIGKILL');
    await deployment.gateway.exited;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await deployment.startGateway();

    expect(runningAtKill).toBeGreaterThan(0);
    const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 40_000 })));
    expect(results.map((r) => r.status)).toEqual(plans.map(() => 'completed'));
    const problems: string[] = [];
    for (const [i, h] of handles.entries()) for (const p of await verifyRelay(redis, prefix, h.id, plans[i]!.id, plans[i]!.hops)) problems.push(`${plans[i]!.id}: ${p}`);
    expect(problems).toEqual([]);
  }, 90_000);
});
