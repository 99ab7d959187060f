import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationHandle, HandoffClient } from '@handoff/client';
import { uniquePrefix } from '../support/env.js';
import { FAST_RECOVERY, type Deployment } from './support/deployment.js';
import { readEffects, type EffectLine } from './support/effects.js';
import { relayInput, verifyRelay } from './support/relay.js';
import { startRelayRuntime, type RelayRuntime } from './support/relay-runtime.js';

const CONVERSATIONS = 200;
const WORKERS = 4;
const KILL_EVERY_MS = 2_000;
const BOUND_MS = 150_000;
/**
 * A tool's side effect and its journal entry are two steps: a worker killed between them leaves a
 * result the journal never got, and the re-run runs the tool again (with the same idempotency key).
 * A second effect is accepted only when the process of the first was killed within this long of it.
 */
const UNJOURNALED_WINDOW_MS = 200;

/**
 * Chaos: 200 concurrent conversations of 4–6 hops (each model answer takes 1 s, so kills hit
 * turns in flight) across 4 worker processes while a random worker
 * is SIGKILLed every 2 s and a fresh one started. Every conversation must reach a terminal state,
 * and every transcript must hold exactly the hops it must contain — no entry twice, no hop twice.
 * Each conversation's first agent calls a tool with a side effect (a line in a file) before it
 * hands off: thanks to the turn journal it ran once per conversation, always under one
 * idempotency key — except where a kill fell between the effect and its journal entry.
 */
describe('chaos: workers killed every 2 s', () => {
  const prefix = uniquePrefix('chaos');
  const dir = mkdtempSync(join(tmpdir(), 'handoff-chaos-'));
  const effectsFile = join(dir, 'effects.jsonl');
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;

  let runtime: RelayRuntime | undefined;

  beforeAll(async () => {
    runtime = await startRelayRuntime({ prefix, workers: WORKERS, modelDelayMs: 1_000, env: { HANDOFF_TEST_EFFECTS_FILE: effectsFile }, workerArgs: [...FAST_RECOVERY, '--max-stalled-count', '20', '--concurrency', '4'] });
    ({ deployment, client, redis } = runtime);
  }, 90_000);

  afterAll(async () => {
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings 200/200 conversations to a terminal state with exact transcripts', async () => {
    const plans = Array.from({ length: CONVERSATIONS }, (_, i) => ({ id: `x${i}`, hops: 4 + (i % 3) }));
    const handles: ConversationHandle[] = await Promise.all(plans.map((p) => client.start({ agent: 'R1', input: relayInput(p.id, p.hops, { holdMs: 0 }) })));
    const results = Promise.all(handles.map((h) => h.result({ timeoutMs: BOUND_MS })));

    let kills = 0;
    const killedAt = new Map<number, number>();
    let done = false;
    void results.finally(() => (done = true));
    const chaos = (async () => {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
        if (done) break;
        const alive = deployment.workers.filter((w) => w.running);
        const victim = alive[Math.floor(Math.random() * alive.length)];
        if (!victim) continue;
        killedAt.set(victim.pid, Date.now());
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
        for (const p of await verifyRelay(redis, prefix, handles[i]!.id, plan.id, plan.hops, { tool: true })) problems.push(`${plan.id}: ${p}`);
      } else if (result.error?.code !== 'HOP_FAILED') {
        problems.push(`${plan.id}: failed with ${result.error?.code}: ${result.error?.message}`);
      }
    }
    // Side effects: one per conversation, under one key; a second only where a kill fell right after the first.
    const effects = new Map<string, EffectLine[]>();
    for (const e of readEffects(effectsFile)) if (e.kind === 'effect') effects.set(e.conversationId, [...(effects.get(e.conversationId) ?? []), e]);
    let unjournaled = 0;
    for (const [i, handle] of handles.entries()) {
      const mine = (effects.get(handle.id) ?? []).sort((a, b) => a.at - b.at);
      if (finished[i]!.status === 'completed' && mine.length === 0) problems.push(`${plans[i]!.id}: its tool never ran`);
      if (new Set(mine.map((e) => e.key)).size > 1) problems.push(`${plans[i]!.id}: tool ran under keys ${mine.map((e) => e.key).join(', ')}`);
      for (const [k, again] of mine.slice(1).entries()) {
        const before = mine[k]!;
        const killed = killedAt.get(before.pid);
        if (killed !== undefined && killed >= before.at && killed - before.at <= UNJOURNALED_WINDOW_MS) unjournaled++;
        else problems.push(`${plans[i]!.id}: tool ran again (pid ${again.pid}) ${again.at - before.at} ms after it ran in pid ${before.pid}, which was ${killed === undefined ? 'not killed' : `killed ${killed - before.at} ms after it`}`);
      }
    }
    const ran = [...effects.values()].reduce((n, list) => n + list.length, 0);
    console.info(`[chaos] ${kills} workers killed; ${completed}/${CONVERSATIONS} completed, ${CONVERSATIONS - completed} failed with HOP_FAILED; tools ran ${ran} times for ${CONVERSATIONS} conversations (${unjournaled} again after a kill between effect and journal entry)`);
    expect(problems).toEqual([]);
    // With a stall limit of 20 a hop would have to lose its worker 21 times to fail.
    expect(completed).toBe(CONVERSATIONS);
  }, BOUND_MS + 30_000);
});
