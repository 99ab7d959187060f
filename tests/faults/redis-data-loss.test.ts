import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { hopId, hopJobId, keyLayout, type StoredEvent } from '@handoff/core';
import { EventLog } from '@handoff/redis';
import { RedisServerProcess, TcpRelay, findFreePort, startScriptedModel, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import { uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { openLane } from '../support/queues.js';
import { FAST_RECOVERY, waitFor } from './support/deployment.js';
import { NO_STALL_NETWORK, NO_STALL_RULES } from './support/no-stall-model.js';

/**
 * What Redis can do to a deployment besides restarting with its data: lose everything (no
 * persistence, a failover to a replica that lost writes), stop answering for longer than a
 * heartbeat lives, or hand a worker a job whose data was overwritten. Real processes (a gateway
 * and workers) on a private redis-server that the test flushes and stops.
 */
describe('Redis losing data or stalling, and a corrupted hop job', () => {
  const prefix = uniquePrefix('dataloss');
  const keys = keyLayout(prefix);
  let server: RedisServerProcess;
  let model: ScriptedModel;
  let gateway: ManagedProcess;
  let worker: ManagedProcess;
  let client: RedisHandoffClient;
  let redis: Redis;
  let port: number;
  let env: Record<string, string>;
  /** The workers reach Redis through it, so their link can come back a little later than the gateway's. */
  let relay: TcpRelay;
  let workerEnv: Record<string, string>;

  beforeAll(async () => {
    server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'] });
    await server.start();
    model = await startScriptedModel({ rules: NO_STALL_RULES() });
    env = { REDIS_URL: server.url, HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    relay = await TcpRelay.start({ host: '127.0.0.1', port: server.port });
    workerEnv = { ...env, REDIS_URL: relay.rewrite(server.url) };
    port = await findFreePort();
    [gateway, worker] = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--reconcile-after', '800', '--reconcile-interval', '200', '--http-port', String(port), '--no-auth'], env),
      startHandoff('worker', ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', 'Front,Primary,Backup,Clerk,Helper', '--concurrency', '16'], workerEnv),
    ]);
    client = createClient({ redis: { url: server.url, prefix } });
    redis = new Redis(server.url);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    redis?.disconnect();
    await Promise.all([gateway, worker].filter((p) => p?.running).map((p) => p.stop(3_000)));
    await model?.close();
    await relay?.close();
    await server?.stop();
  });

  const events = (id: string): Promise<StoredEvent[]> => new EventLog(redis, keys).read(id);
  const readyz = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

  it('Redis coming back empty: the gateway registers its network again within seconds, and says it is not ready until it has', async () => {
    expect(await readyz()).toBe(200);
    await redis.flushall();
    // Clients refuse starts while no network is registered; the gateway writes it again.
    await waitFor(async () => (await redis.exists(keys.network)) === 1, 5_000, 'the network registration to be written again');
    await waitFor(async () => (await readyz()) === 200, 5_000, '/readyz to answer 200 again');
    expect(gateway.lines.join('\n')).toMatch(/registration was missing from Redis/);
    const conversation = await client.start({ agent: 'Front', input: 'primary please, after the data loss' });
    expect(await conversation.result({ timeoutMs: 20_000 })).toMatchObject({ status: 'completed', path: ['Front', 'Primary'] });
  }, 30_000);

  it('Redis down for longer than a heartbeat lives does not make the gateway judge live workers dead', async () => {
    // Heartbeats live 3 s. Redis goes away for 5 s (its data kept: AOF), then every process
    // reconnects on its own schedule; the starts sent meanwhile apply as soon as the gateway is back.
    await waitFor(async () => (await redis.zcard(keys.workers('Primary'))) > 0, 5_000, 'a Primary heartbeat');
    await relay.close();
    const restarted = server.restart(5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const starts = Array.from({ length: 5 }, (_, i) => client.start({ agent: 'Front', input: `primary please, sent while Redis was down ${i}` }));
    await restarted;
    // The workers' link comes back a second after the gateway's (their reconnect backoff is their own).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await relay.open();
    const conversations = await Promise.all(starts);
    const results = await Promise.all(conversations.map((c) => c.result({ timeoutMs: 30_000 })));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 'completed'));
    // Nobody was routed around, or warned about, a worker that was alive all along.
    for (const conversation of conversations) {
      const judged = (await events(conversation.id)).filter((e) => e.type === 'warning' || (e.type === 'routing.decided' && e.strategy === 'health'));
      expect(judged, conversation.id).toEqual([]);
    }
    expect(results.map((r) => r.path)).toEqual(results.map(() => ['Front', 'Primary']));
  }, 60_000);

  it('a hop job whose data was overwritten ends its conversation with the error (found from the job id), instead of leaving it running', async () => {
    // Clerk has no worker yet: its hop waits on its lane, where its data gets overwritten.
    await worker.stop(5_000);
    const front = await startHandoff('worker front', ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', 'Front'], workerEnv);
    try {
      const conversation = await client.start({ agent: 'Front', input: 'clerk please, then lose my hop' });
      const { epoch } = await conversation.status();
      const lane = openLane('Clerk', redis, prefix);
      const jobId = hopJobId(hopId(conversation.id, 2), epoch);
      await waitFor(async () => (await lane.state(jobId)) === 'waiting', 15_000, 'the hop to Clerk to wait on its lane');
      await redis.hset(lane.keys.data, jobId, '"corrupted"');
      worker = await startHandoff('worker', ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', 'Primary,Backup,Clerk,Helper'], workerEnv);
      const result = await conversation.result({ timeoutMs: 20_000 });
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe('VALIDATION_FAILED');
      expect((await events(conversation.id)).some((e) => e.type === 'error')).toBe(true);
    } finally {
      await front.stop(3_000);
    }
  }, 60_000);
});
