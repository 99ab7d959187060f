import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ConversationHandle, type HandoffClient } from '@handoff/client';
import { RedisServerProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { uniquePrefix } from '../support/env.js';
import { Deployment, FAST_RECOVERY } from './support/deployment.js';
import { relayInput, relayRules, verifyRelay } from './support/relay.js';

/**
 * Redis SIGKILLed mid-run and restarted on the same port and data directory, with AOF and
 * `appendfsync always`: no accepted conversation is lost, and the gateway and workers — not
 * restarted themselves — resume within 5 s.
 */
describe('Redis killed and restarted (AOF, appendfsync always)', () => {
  const prefix = uniquePrefix('redis');
  let server: RedisServerProcess;
  let model: ScriptedModel;
  let deployment: Deployment;
  let client: HandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    server = new RedisServerProcess({ args: ['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'] });
    await server.start();
    model = await startScriptedModel({ rules: relayRules(150) });
    deployment = new Deployment({ REDIS_URL: server.url, HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' }, FAST_RECOVERY, FAST_RECOVERY);
    await deployment.start(2);
    client = createClient({ redis: { url: server.url, prefix } });
    redis = new Redis(server.url);
    redis.on('error', () => undefined); // Redis is killed on purpose below; commands report their own failures
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    redis?.disconnect();
    await deployment?.stop();
    await model?.close();
    await server?.stop();
  });

  it('loses no accepted conversation and resumes without restarting the processes', async () => {
    const pids = [deployment.gateway.pid, ...deployment.workers.map((w) => w.pid)];
    const accepted: { handle: ConversationHandle; id: string; hops: number }[] = [];
    let refused = 0;
    let n = 0;
    const generating = (async () => {
      const until = Date.now() + 5_000;
      while (Date.now() < until) {
        const id = `r${n++}`;
        const hops = 2 + (n % 3);
        client
          .start({ agent: 'R1', input: relayInput(id, hops) })
          .then((handle) => accepted.push({ handle, id, hops }))
          .catch(() => refused++);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await server.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await server.restart();
    const restartedAt = Date.now();

    // A one-hop conversation started right after the restart shows when the processes are back.
    const probe = await client.start({ agent: 'R1', input: relayInput('probe', 1) });
    const probeResult = await probe.result({ timeoutMs: 20_000 });
    const resumedAfterMs = Date.now() - restartedAt;
    expect(probeResult.status).toBe('completed');
    expect(resumedAfterMs).toBeLessThan(5_000);

    await generating;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const results = await Promise.all(accepted.map((a) => a.handle.result({ timeoutMs: 60_000 })));
    console.info(`[redis-restart] ${accepted.length} accepted, ${refused} refused during the outage; resumed ${resumedAfterMs} ms after restart`);
    expect(accepted.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 'completed').map((r) => `${r.conversationId}: ${r.error?.code} ${r.error?.message}`)).toEqual([]);
    const problems: string[] = [];
    for (const a of accepted) for (const p of await verifyRelay(redis, prefix, a.handle.id, a.id, a.hops)) problems.push(`${a.id}: ${p}`);
    expect(problems).toEqual([]);
    // The same processes did all that.
    expect([deployment.gateway.pid, ...deployment.workers.map((w) => w.pid)]).toEqual(pids);
    expect([deployment.gateway, ...deployment.workers].every((p) => p.running)).toBe(true);
  }, 120_000);
});
