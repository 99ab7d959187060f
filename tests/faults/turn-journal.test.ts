import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '@handoff/client';
import { keyLayout, type RuntimeEvent } from '@handoff/core';
import { EventLog } from '@handoff/redis';
import type { ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { FAST_RECOVERY, waitFor, type Deployment } from './support/deployment.js';
import { readEffects } from './support/effects.js';
import { isAfterTool, isToolAsk, relayInput, relayReply, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

/**
 * The turn journal across real worker processes (1.5 s locks): relay 1 calls `AppendLine` (a side
 * effect written to a file, with the process that ran it), then answers. A run of its hop that dies
 * or stalls is re-run by the other replica, which replays the journal: the tool runs once, and the
 * model call that asked for it is not made again (counted at the scripted model).
 */
describe('the turn journal: a hop re-run after a crash or a stall', () => {
  const prefix = uniquePrefix('journal');
  const dir = mkdtempSync(join(tmpdir(), 'handoff-journal-'));
  const effectsFile = join(dir, 'effects.jsonl');
  let model: ScriptedModel;
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;
  let release!: () => void;
  let releaseRerun!: () => void;
  let runtime: RelayRuntime | undefined;

  const effectsOf = (conversationId: string, kind: 'started' | 'effect') => readEffects(effectsFile).filter((e) => e.conversationId === conversationId && e.kind === kind);
  const eventsOf = (conversationId: string): Promise<RuntimeEvent[]> => new EventLog(redis, keyLayout(prefix)).readAll(conversationId);

  beforeAll(async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    const heldRerun = new Promise<void>((resolve) => (releaseRerun = resolve));
    runtime = await startRelayRuntime({
      prefix,
      workers: 2,
      env: { HANDOFF_TEST_EFFECTS_FILE: effectsFile },
      // A SIGTERMed worker hands its running turns back after 300 ms.
      workerArgs: [...FAST_RECOVERY, '--drain-timeout', '300'],
      // The answers after j1's tool result are held open until the test lets them go: the killed run's, then the re-run's.
      prepareModel: (m) => {
        m.prependRule({ name: 'hold j1 answer of the re-run', when: isAfterTool('j1'), times: 1, reply: (req) => ({ ...relayReply(req), hold: heldRerun }) });
        m.prependRule({ name: 'hold j1 answer once', when: isAfterTool('j1'), times: 1, reply: (req) => ({ ...relayReply(req), hold: held }) });
        m.prependRule({ name: 'hold j3 answer once', when: isAfterTool('j3'), times: 1, reply: (req) => ({ ...relayReply(req), hold: held }) });
      },
    });
    ({ model, deployment, client, redis } = runtime);
  }, 60_000);

  afterAll(async () => {
    release?.();
    releaseRerun?.();
    for (const w of deployment?.workers ?? []) if (w.running) w.kill('SIGCONT');
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL while the model answers after a tool: the other replica replays the call and its result, and the tool ran once', async () => {
    const conversation = await client.start({ agent: 'R1', input: relayInput('j1', 1, { holdMs: 0 }) });
    await waitFor(() => model.requests.some(isAfterTool('j1')), 15_000, 'relay 1 to ask for its answer after the tool');
    const victim = await deployment.workerRunning(redisUrl(), 'R1', conversation.id);
    expect(victim, 'the worker running relay 1').toBeDefined();
    victim!.kill('SIGKILL');
    await victim!.exited;

    // While the re-run waits for its answer, the live log holds the text that asked for the tool once: not streamed again.
    await waitFor(() => model.requests.filter(isAfterTool('j1')).length === 2, 20_000, 'the re-run to ask for the answer');
    await waitFor(async () => (await eventsOf(conversation.id)).filter((e) => e.type === 'agent.started').length === 2, 5_000, "the re-run's agent.started");
    const live = await eventsOf(conversation.id);
    const streamed = live.flatMap((e) => (e.type === 'text.delta' ? [e.text] : [])).join('');
    expect(streamed).toBe('appending j1');
    releaseRerun();

    const result = await conversation.result({ timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done j1' });
    // One side effect, under the hop's idempotency key; the model call that asked for it made once.
    const effects = effectsOf(conversation.id, 'effect');
    expect(effects).toHaveLength(1);
    expect(effects[0]!.key).toMatch(new RegExp(`^${conversation.id}\\.h1:call_\\d+$`));
    expect(effects[0]!.pid).toBe(victim!.pid);
    expect(model.requests.filter(isToolAsk('j1'))).toHaveLength(1);
    // The answer was asked for twice: by the killed run, and by the re-run.
    expect(model.requests.filter(isAfterTool('j1'))).toHaveLength(2);
    expect(await verifyRelay(redis, prefix, conversation.id, 'j1', 1, { tool: true })).toEqual([]);

    // The re-run says where it resumed, and writes no tool event again.
    const events = await eventsOf(conversation.id);
    const started = events.filter((e) => e.type === 'agent.started');
    expect(started).toHaveLength(2);
    expect(started[0]).not.toHaveProperty('resumed');
    expect(started[1]).toMatchObject({ resumed: { round: 2, modelCalls: 1, toolResults: 1 } });
    expect(events.filter((e) => e.type === 'tool.called')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(1);
    // The journal went with the stored turn result.
    expect(await redis.exists(keyLayout(prefix).turnJournal(conversation.id))).toBe(0);
  }, 60_000);

  it('SIGSTOP mid-tool past the lock, then SIGCONT: the racing replica waits on the claim; one journal, one effect', async () => {
    // Back to two replicas.
    await deployment.addWorker();
    const conversation = await client.start({ agent: 'R1', input: relayInput('j2', 1, { holdMs: 2_500 }) });
    await waitFor(() => effectsOf(conversation.id, 'started').length > 0, 15_000, 'the tool handler to start');
    const runner = effectsOf(conversation.id, 'started')[0]!.pid;
    const paused = deployment.workers.find((w) => w.running && w.pid === runner);
    expect(paused, 'the worker running the tool').toBeDefined();
    paused!.kill('SIGSTOP');

    // The other replica takes the hop over once the lock (1.5 s) has expired, replays the model
    // call from the journal and finds the tool call claimed: it waits.
    await waitFor(async () => (await eventsOf(conversation.id)).filter((e) => e.type === 'agent.started').length >= 2, 20_000, 'the other replica to start the hop');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(effectsOf(conversation.id, 'started')).toHaveLength(1);
    expect(await redis.hexists(keyLayout(prefix).turnJournal(conversation.id), 'r1.model')).toBe(1);

    // The paused worker wakes: its handler finishes and journals the result, which the other run
    // takes; both ask the model for the answer and race to report it.
    paused!.kill('SIGCONT');
    const result = await conversation.result({ timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done j2' });

    expect(effectsOf(conversation.id, 'started')).toHaveLength(1);
    const effects = effectsOf(conversation.id, 'effect');
    expect(effects).toHaveLength(1);
    expect(effects[0]!.pid).toBe(runner);
    expect(model.requests.filter(isToolAsk('j2'))).toHaveLength(1);
    expect(await verifyRelay(redis, prefix, conversation.id, 'j2', 1, { tool: true })).toEqual([]);
    const started = (await eventsOf(conversation.id)).filter((e) => e.type === 'agent.started');
    expect(started[1]).toMatchObject({ resumed: { round: 1, modelCalls: 1, toolResults: 0 } });
    expect(paused!.running).toBe(true);
    await waitFor(async () => (await redis.exists(keyLayout(prefix).turnJournal(conversation.id))) === 0, 10_000, 'the journal to go with the stored result');
  }, 60_000);

  it('SIGTERM while the model answers after a tool: the drained turn is handed back and the other replica replays it', async () => {
    const alive = deployment.workers.filter((w) => w.running);
    expect(alive.length).toBeGreaterThanOrEqual(2);
    const conversation = await client.start({ agent: 'R1', input: relayInput('j3', 1, { holdMs: 0 }) });
    await waitFor(() => model.requests.some(isAfterTool('j3')), 15_000, 'relay 1 to ask for its answer after the tool');
    const drained = await deployment.workerRunning(redisUrl(), 'R1', conversation.id);
    expect(drained, 'the worker running relay 1').toBeDefined();
    drained!.kill('SIGTERM');
    expect((await drained!.exited).code).toBe(0);

    const result = await conversation.result({ timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'done j3' });
    expect(effectsOf(conversation.id, 'effect')).toHaveLength(1);
    expect(model.requests.filter(isToolAsk('j3'))).toHaveLength(1);
    expect(model.requests.filter(isAfterTool('j3'))).toHaveLength(2);
    const started = (await eventsOf(conversation.id)).filter((e) => e.type === 'agent.started');
    expect(started.at(-1)).toMatchObject({ resumed: { round: 2, modelCalls: 1, toolResults: 1 } });
    expect(await verifyRelay(redis, prefix, conversation.id, 'j3', 1, { tool: true })).toEqual([]);
  }, 60_000);
});
