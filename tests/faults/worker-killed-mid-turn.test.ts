import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '@handoff/client';
import type { ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { waitFor, type Deployment } from './support/deployment.js';
import { isTurnOf, relayInput, relayReply, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

/** A worker SIGKILLed mid-turn: another replica re-runs the turn; the history holds it once. */
describe('a worker killed mid-turn', () => {
  const prefix = uniquePrefix('kill');
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
      // The first call of relay 2's turn is held open until the test lets it go.
      prepareModel: (m) => m.prependRule({ name: 'hold R2 once', when: isTurnOf('k1', 2), times: 1, reply: (req) => ({ ...relayReply(req), hold: held }) }),
    });
    ({ model, deployment, client, redis } = runtime);
  }, 60_000);

  afterAll(async () => {
    release?.();
    await runtime?.close();
  });

  it('completes the conversation, with the killed turn in its history exactly once', async () => {
    const conversation = await client.start({ agent: 'R1', input: relayInput('k1', 4) });
    await waitFor(() => model.requests.some(isTurnOf('k1', 2)), 15_000, 'relay 2 to call the model');
    const victim = await deployment.workerRunning(redisUrl(), 'R2', conversation.id);
    expect(victim, 'the worker running relay 2').toBeDefined();
    victim!.kill('SIGKILL');
    await victim!.exited;

    const result = await conversation.result({ timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done k1', path: ['R1', 'R2', 'R3', 'R4'] });
    // The turn ran twice against the model (the killed attempt and the re-run) ...
    expect(model.requests.filter(isTurnOf('k1', 2)).length).toBe(2);
    // ... and is in the conversation once.
    expect(await verifyRelay(redis, prefix, conversation.id, 'k1', 4)).toEqual([]);
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    expect(events.filter((e) => e.type === 'agent.started' && e.agent === 'R2').length).toBe(2);
  }, 60_000);
});
