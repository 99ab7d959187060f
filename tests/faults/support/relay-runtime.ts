import { Redis } from 'ioredis';
import { createClient, type HandoffClient } from '@handoff/client';
import { startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { redisUrl } from '../../support/env.js';
import { Deployment, FAST_RECOVERY } from './deployment.js';
import { relayRules } from './relay.js';

/** The relay network running as separate processes, with a client, a Redis connection and the scripted model. */
export interface RelayRuntime {
  model: ScriptedModel;
  deployment: Deployment;
  client: HandoffClient;
  redis: Redis;
  /** Stops the processes, the client, the connection and the model. */
  close(): Promise<void>;
}

/** Options of {@link startRelayRuntime}. */
export interface RelayRuntimeOptions {
  prefix: string;
  /** Worker processes to start. */
  workers: number;
  /** How long each scripted answer takes. @defaultValue the relay's default */
  modelDelayMs?: number;
  /** @defaultValue {@link FAST_RECOVERY} */
  workerArgs?: string[];
  /** @defaultValue {@link FAST_RECOVERY} */
  gatewayArgs?: string[];
  /** Adds the test's own model rules before any process starts. */
  prepareModel?: (model: ScriptedModel) => void;
  /** More environment for the processes (e.g. HANDOFF_TEST_EFFECTS_FILE). */
  env?: Record<string, string>;
}

/** Starts the scripted model, a gateway and `workers` worker processes of the relay network, a client and a connection. */
export async function startRelayRuntime(options: RelayRuntimeOptions): Promise<RelayRuntime> {
  const model = await startScriptedModel({ rules: relayRules(options.modelDelayMs) });
  options.prepareModel?.(model);
  const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: options.prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', ...options.env };
  const deployment = new Deployment(env, options.workerArgs ?? FAST_RECOVERY, options.gatewayArgs ?? FAST_RECOVERY);
  try {
    await deployment.start(options.workers);
  } catch (error) {
    await Promise.all([deployment.stop(), model.close()]);
    throw error;
  }
  const client = createClient({ redis: { url: redisUrl(), prefix: options.prefix } });
  const redis = new Redis(redisUrl());
  return {
    model,
    deployment,
    client,
    redis,
    async close() {
      await client.close();
      redis.disconnect();
      await deployment.stop();
      await model.close();
    },
  };
}
