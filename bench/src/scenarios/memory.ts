import { Redis } from 'ioredis';
import pino from 'pino';
import { createClient } from '@handoff/client';
import { HopLane } from '@handoff/redis';
import { startGateway } from '@handoff/gateway';
import { hasTool, startScriptedModel } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';
import { chainNetwork } from '../chain-script.js';
import { rssMb, startRole } from '../processes.js';

/** Memory of a worker process and of waiting conversations in Redis. */
export interface MemoryMeasurement {
  /** A worker process serving one agent, idle. */
  idleSingleAgentWorkerRssMb: number;
  /** A worker process serving all ten agents (ten BullMQ workers), idle. */
  idleWorkerRssMb: number;
  busyWorkerRssMb: number;
  busyTurns: number;
  redisBytesPerWaitingConversation: number;
  waitingConversations: number;
  /**
   * Bytes a finished 2-hop conversation with a 200-token answer keeps in Redis (MEMORY USAGE summed
   * over its keys, once its lingering keys are gone), averaged over `finishedConversations`.
   */
  redisBytesPerFinishedConversation: number;
  finishedConversations: number;
}

/**
 * RSS of an idle worker process (all ten agents of the chain), then of the same process holding
 * `busyTurns` turns open at once (the scripted model holds every answer); and Redis memory per
 * conversation waiting on an agent queue that no worker serves (1 KB input each).
 */
export async function memory(options: { redisUrl: string; prefix: string; busyTurns: number; waitingConversations: number; finishedConversations?: number }): Promise<MemoryMeasurement> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const model = await startScriptedModel({ rules: [{ reply: { content: 'done', hold: held } }] });
  const prefix = `${options.prefix}-rss`;
  const env = { REDIS_URL: options.redisUrl, HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', LOG_LEVEL: 'info' };
  const logger = pino({ level: 'silent' });
  const network = chainNetwork(10);
  const gateway = await startGateway({ network, redis: { url: options.redisUrl, prefix }, logger });
  const single = await startRole('worker', env, ['--agents', 'A1']);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const idleSingle = await rssMb(single.pid);
  await single.stop();
  const worker = await startRole('worker', env, ['--concurrency', String(options.busyTurns)]);
  const client = createClient({ redis: { url: options.redisUrl, prefix } });
  let idle: number;
  let busy: number;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    idle = await rssMb(worker.pid);
    // The last agent answers without handing off: start conversations directly on it.
    await Promise.all(Array.from({ length: options.busyTurns }, (_, i) => client.start({ agent: 'A10', input: `busy ${i} ${'x'.repeat(1000)}` })));
    await model.waitForRequests(options.busyTurns, 30_000);
    busy = await rssMb(worker.pid);
  } finally {
    release();
    await worker.stop();
    await gateway.close();
    await client.close();
    await model.close();
  }

  // Conversations waiting on a queue nobody serves.
  const waitingPrefix = `${options.prefix}-wait`;
  const redis = new Redis(options.redisUrl);
  const waitingGateway = await startGateway({ network, redis: { url: options.redisUrl, prefix: waitingPrefix }, logger });
  const waitingClient = createClient({ redis: { url: options.redisUrl, prefix: waitingPrefix } });
  const lane = new HopLane(redis, waitingPrefix, 'A1');
  await waitingClient.network();
  const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  for (let i = 0; i < options.waitingConversations; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, options.waitingConversations - i) }, (_, k) => waitingClient.start({ agent: 'A1', input: `wait ${i + k} ${'x'.repeat(1000)}` })));
  }
  while ((await lane.counts()).waiting < options.waitingConversations) await new Promise((resolve) => setTimeout(resolve, 50));
  const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  for (const id of await lane.waitingIds(options.waitingConversations)) await lane.remove(id);
  await waitingClient.close();
  await waitingGateway.close();
  redis.disconnect();
  const finishedConversations = options.finishedConversations ?? 20;
  const finishedBytes = await bytesPerFinishedConversation(options.redisUrl, `${options.prefix}-done`, finishedConversations);
  return {
    redisBytesPerFinishedConversation: finishedBytes,
    finishedConversations,
    idleSingleAgentWorkerRssMb: idleSingle,
    idleWorkerRssMb: idle,
    busyWorkerRssMb: busy,
    busyTurns: options.busyTurns,
    redisBytesPerWaitingConversation: Math.round((after - before) / options.waitingConversations),
    waitingConversations: options.waitingConversations,
  };
}

/**
 * What a finished conversation keeps in Redis: `count` 2-hop conversations (A9 hands off to A10,
 * which answers 200 tokens, streamed), then MEMORY USAGE over every key of each, once the keys that
 * only linger after the end are gone.
 */
async function bytesPerFinishedConversation(redisUrl: string, prefix: string, count: number): Promise<number> {
  const answer = 'word '.repeat(160); // 800 characters: 200 tokens as the scripted model counts them
  const model = await startScriptedModel({ rules: [{ when: hasTool('transfer_to_A10'), reply: { toolCalls: [{ name: 'transfer_to_A10', arguments: { reason: 'next' } }] } }, { reply: { content: answer } }] });
  const network = chainNetwork(10, model.url);
  const logger = pino({ level: 'silent' });
  const gateway = await startGateway({ network, redis: { url: redisUrl, prefix }, logger });
  const workers = await startWorkers({ network, redis: { url: redisUrl, prefix }, logger, agents: ['A9', 'A10'] });
  const client = createClient({ redis: { url: redisUrl, prefix } });
  const redis = new Redis(redisUrl);
  try {
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const conversation = await client.start({ agent: 'A9', input: `finished ${i}` });
      const result = await conversation.result({ timeoutMs: 30_000 });
      if (result.status !== 'completed') throw new Error(`memory: conversation ${conversation.id} ended ${result.status}`);
      ids.push(conversation.id);
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the stream and wake-up mark linger 2 s
    let total = 0;
    for (const id of ids) {
      for (const key of await redis.keys(`${prefix}:conv:{${id}}:*`)) total += Number((await redis.memory('USAGE', key)) ?? 0);
    }
    return Math.round(total / ids.length);
  } finally {
    await client.close();
    await workers.close();
    await gateway.close();
    await model.close();
    redis.disconnect();
  }
}
