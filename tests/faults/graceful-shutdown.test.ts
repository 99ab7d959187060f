import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '@handoff/client';
import { ManagedProcess, findFreePort, type ScriptedModel } from '@handoff/testing';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';
import { uniquePrefix } from '../support/env.js';
import { FAST_RECOVERY, waitFor, type Deployment } from './support/deployment.js';
import { isTurnOf, relayInput, relayReply, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';
import { hopRunsOf, hopStateOf } from '../support/queues.js';

/**
 * SIGTERM drains: a worker finishes the turns it is running before it exits (no stalled jobs);
 * turns that outlast the drain timeout are handed back to the queue for other replicas, not lost.
 */
describe('graceful shutdown', () => {
  const prefix = uniquePrefix('drain');
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
      workers: 1,
      workerArgs: [...FAST_RECOVERY, '--drain-timeout', '5000'],
      prepareModel: (m) => {
        m.prependRule({ name: 'slow R1 turn', when: isTurnOf('slow', 1), times: 1, reply: (req) => ({ ...relayReply(req), delayMs: 1_500 }) });
        m.prependRule({ name: 'hold R1 turn', when: isTurnOf('held', 1), times: 1, reply: (req) => ({ ...relayReply(req), hold: held }) });
      },
    });
    ({ model, deployment, client, redis } = runtime);
  }, 60_000);

  afterAll(async () => {
    release?.();
    await runtime?.close();
  });

  /** Where the conversation's first hop is in R1's lane. */
  async function firstHopState(conversationId: string) {
    const { epoch } = await client.conversation(conversationId).status();
    return hopStateOf(redis, prefix, 'R1', conversationId, 1, epoch);
  }

  it('finishes a running turn before exiting, with no stalled job', async () => {
    const worker = deployment.workers[0]!;
    const conversation = await client.start({ agent: 'R1', input: relayInput('slow', 2) });
    await waitFor(() => model.requests.some(isTurnOf('slow', 1)), 10_000, 'the slow turn to start');
    const stopping = worker.stop(20_000);
    // A replacement takes the rest of the conversation.
    await deployment.addWorker();
    expect(await stopping).toEqual({ code: 0, signal: null });

    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result.status).toBe('completed');
    expect(model.requests.filter(isTurnOf('slow', 1))).toHaveLength(1); // not re-run
    // One run of the hop, by the stopping worker, and the hop has left the lane.
    expect(await hopRunsOf(redis, prefix, conversation.id, 1)).toEqual([{ agent: 'R1', workerId: expect.stringMatching(/^worker/), attempt: 1 }]);
    expect(await firstHopState(conversation.id)).toBe('unknown');
    expect(await verifyRelay(redis, prefix, conversation.id, 'slow', 2)).toEqual([]);
  }, 60_000);

  it('hands a turn that outlasts the drain timeout back to the queue for another replica', async () => {
    const worker = deployment.workers.find((w) => w.running)!;
    const conversation = await client.start({ agent: 'R1', input: relayInput('held', 2) });
    await waitFor(() => model.requests.some(isTurnOf('held', 1)), 10_000, 'the held turn to start');
    const startedStopping = Date.now();
    const exit = await worker.stop(20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - startedStopping).toBeGreaterThanOrEqual(4_500); // it waited for the drain timeout
    expect(Date.now() - startedStopping).toBeLessThan(15_000);
    // The hop waits on the lane, not failed, not active.
    expect(await firstHopState(conversation.id)).toBe('waiting');

    await deployment.addWorker();
    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done held' });
    // Handed back, not failed: the second run is still attempt 1.
    expect((await hopRunsOf(redis, prefix, conversation.id, 1)).map((run) => run.attempt)).toEqual([1, 1]);
    expect(await verifyRelay(redis, prefix, conversation.id, 'held', 2)).toEqual([]);
  }, 60_000);

  it('exits cleanly on SIGTERM while still starting (Redis unreachable), as a container stop needs', async () => {
    const closedPort = await findFreePort();
    const worker = await ManagedProcess.start({
      name: 'starting worker',
      command: process.execPath,
      args: [HANDOFF_BIN, 'worker', '--network', 'examples/dist/english-spanish/network.js'],
      cwd: REPO_ROOT,
      env: { REDIS_URL: `redis://127.0.0.1:${closedPort}`, OPENAI_API_KEY: 'test', LOG_LEVEL: 'info' },
    });
    // Let it load the network (its handlers are in place once it says "starting") and start retrying Redis, then stop it.
    await waitFor(() => worker.lines.some((line) => line.includes('"msg":"starting"')), 30_000, 'the worker to start');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(worker.running).toBe(true);
    worker.kill('SIGTERM');
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000))]);
    if (exit === 'hung') worker.kill('SIGKILL');
    // Handled (exit code 0), not killed by the default action (signal SIGTERM) or hung.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.lines.join('\n')).toMatch(/signal while starting: exiting/);
  });
});
