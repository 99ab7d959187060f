import { Redis } from 'ioredis';
import { createClient, type ClientOptions, type RedisHandoffClient } from '@handoff/client';
import type { NetworkDefinition } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { startScriptedModel, type ScriptRule, type ScriptedModel } from '@handoff/testing';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import pino, { type Logger } from 'pino';
import { redisUrl, uniquePrefix } from './env.js';

/** A network running inside the test process: gateway, workers, client, scripted model, real Redis. */
export interface InProcessRuntime {
  prefix: string;
  network: NetworkDefinition;
  redis: Redis;
  model: ScriptedModel;
  gateway: Gateway;
  workers: WorkerGroup;
  client: RedisHandoffClient;
  close(): Promise<void>;
}

/** Options of {@link startInProcess}. */
export interface InProcessOptions {
  /** Builds the network once the scripted model's URL is known. */
  network: (modelUrl: string) => NetworkDefinition;
  rules: ScriptRule[];
  label: string;
  /** The agents the in-process workers serve. @defaultValue all */
  agents?: string[];
  /** The gateway's and workers' logger. @defaultValue silent unless TEST_LOG_LEVEL is set */
  logger?: Logger;
  /** The Redis to run on. @defaultValue the suite's ({@link redisUrl}) */
  redisUrl?: string;
  /** Turns a worker process runs at once. @defaultValue 16 */
  concurrency?: number;
  /** Options of the client, besides its Redis. */
  client?: Omit<ClientOptions, 'redis'>;
}

/**
 * Starts a gateway and workers for every agent in this process, over a real Redis and a scripted
 * model reached by HTTP through the real openai client.
 */
export async function startInProcess(options: InProcessOptions): Promise<InProcessRuntime> {
  const prefix = uniquePrefix(options.label);
  const url = options.redisUrl ?? redisUrl();
  const model = await startScriptedModel({ rules: options.rules });
  const network = options.network(model.url);
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const gateway = await startGateway({ network, redis: { url, prefix }, logger });
  const workers = await startWorkers({ network, redis: { url, prefix }, logger, concurrency: options.concurrency ?? 16, ...(options.agents ? { agents: options.agents } : {}) });
  await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
  const client = createClient({ ...options.client, redis: { url, prefix } });
  const redis = new Redis(url);
  return {
    prefix,
    network,
    redis,
    model,
    gateway,
    workers,
    client,
    async close() {
      await client.close();
      await Promise.all([workers.close(), gateway.close()]);
      await model.close();
      redis.disconnect();
    },
  };
}
