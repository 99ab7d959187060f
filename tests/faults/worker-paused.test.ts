import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '@handoff/client';
import type { ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { waitFor, type Deployment } from './support/deployment.js';
import { isTurnOf, relayInput, relayReply, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

/**
 * Double processing: a worker is SIGSTOPped mid-turn for longer than its lock, another replica
 * re-runs the turn and the conversation moves on; then the paused worker wakes (SIGCONT), finishes
 * its stale copy of the turn and tries to report it. Still no history entry or hop twice.
 */
describe('a worker paused past its lock, then resumed', () => {
  const prefix = uniquePrefix('pause');
  let model: ScriptedModel;
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;
  let release!: () => void;

  let runtime: RelayRuntime | undefined;

  beforeAll(async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    runtime = await startRelayRuntime({
      prefix,
      workers: 2,
      prepareModel: (m) => m.prependRule({ name: 'hold R2 once', when: isTurnOf('p1', 2), times: 1, reply: (req) => ({ ...relayReply(req), hold: held }) }),
    });
    ({ model, deployment, client, redis } = runtime);
  }, 60_000);

  afterAll(async () => {
    release?.();
    for (const w of deployment?.workers ?? []) w.kill('SIGCONT');
    await runtime?.close();
  });

  it('keeps the transcript exact through the double processing', async () => {
    const conversation = await client.start({ agent: 'R1', input: relayInput('p1', 4) });
    await waitFor(() => model.requests.some(isTurnOf('p1', 2)), 15_000, 'relay 2 to call the model');
    const paused = await deployment.workerRunning(redisUrl(), 'R2', conversation.id);
    expect(paused).toBeDefined();
    paused!.kill('SIGSTOP');

    // The other replica takes the hop over once the lease (1.5 s) has run out, and the conversation ends.
    const result = await conversation.result({ timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done p1' });
    expect(model.requests.filter(isTurnOf('p1', 2)).length).toBe(2);

    // Now the paused worker gets its (held) answer and wakes up with a stale turn.
    release();
    paused!.kill('SIGCONT');
    // It finishes the stale turn; the lane refuses its finish, as its lease ran out and went to the other replica.
    await paused!.waitForLine(/hop finished after its lease ran out/, 10_000, { includePast: true });

    expect(await verifyRelay(redis, prefix, conversation.id, 'p1', 4)).toEqual([]);
    expect(paused!.running).toBe(true); // it woke up and kept serving
    const next = await client.start({ agent: 'R1', input: relayInput('p2', 2) });
    expect((await next.result({ timeoutMs: 15_000 })).status).toBe('completed');
  }, 60_000);
});
