import { Redis } from 'ioredis';
import pino from 'pino';
import { createClient } from '@handoff/client';
import { hrNow, type TurnTiming } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { startScriptedModel } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';
import { CHAIN_RULES, chainNetwork, stagesOf, type HandoffStages } from '../chain-script.js';
import { syntheticHistory } from '../history.js';
import { startModelProcess, startRole } from '../processes.js';
import { summarize, type Summary } from '../stats.js';
import { commandCounts } from './streaming.js';

/** Options of {@link runtimeChain}. */
export interface RuntimeChainOptions {
  redisUrl: string;
  prefix: string;
  agents: number;
  chains: number;
  warmupChains: number;
  /** Prior messages each conversation starts with, and their size. */
  historyMessages: number;
  historyBytesEach: number;
  /**
   * Run the gateway, the workers and the model as separate processes (as deployed) instead of
   * inside this one. @defaultValue false
   */
  separateProcesses?: boolean;
}

/** Per-handoff overhead and whole-chain latency. */
export interface ChainMeasurement {
  /** Last model return → next model call, one sample per handoff: the per-handoff overhead. */
  handoff: Summary;
  /** The same overhead split into stages (this runtime only). */
  stages?: Record<Exclude<keyof HandoffStages, 'total'>, Summary>;
  /** Client start → result, per chain (model time included). */
  chain: Summary;
  /** Model calls' own duration as the runtime saw it. */
  modelCall: Summary;
  /** Bytes of the first model request's messages (the history as the model sees it). */
  firstRequestBytes: number;
  /** Redis's work per handoff over the measured chains (everything the runtime and BullMQ asked of it, divided by the handoffs). */
  redis?: RedisWork;
}

/** Redis's work per handoff. */
export interface RedisWork {
  /** Commands executed, those that scripts run included. */
  commandsPerHandoff: number;
  /** EVALSHA/EVAL calls (the runtime's and BullMQ's scripts). */
  scriptsPerHandoff: number;
  /** Redis server CPU (user + system). */
  cpuMsPerHandoff: number;
}

/**
 * This runtime's per-handoff overhead: a chain of agents, one conversation at a time, gateway and
 * workers in this process on a real Redis, the scripted model at zero latency over HTTP. Each
 * handoff is the time from one turn's model call returning to the next turn's model call starting,
 * taken from the turns' own timings, so model time is excluded.
 */
export async function runtimeChain(options: RuntimeChainOptions): Promise<ChainMeasurement> {
  const redis = { url: options.redisUrl, prefix: options.prefix };
  const deployment = options.separateProcesses ? await startSeparate(options) : await startInProcess(options);
  const client = createClient({ redis });

  const runChain = async (tag: string) => {
    const prior = options.historyMessages > 0 ? syntheticHistory(options.historyMessages, options.historyBytesEach, tag) : [];
    const input = prior.length > 0 ? prior : `${tag} ${'c'.repeat(Math.max(0, 1000 - tag.length))}`;
    const t0 = hrNow();
    const conversation = await client.start({ agent: 'A1', input });
    const result = await conversation.result({ timeoutMs: 120_000 });
    const elapsed = hrNow() - t0;
    if (result.status !== 'completed') throw new Error(`chain ${tag} ended ${result.status}: ${result.error?.message}`);
    const timings: TurnTiming[] = [];
    for await (const event of conversation.events()) if (event.type === 'agent.completed' && event.timing) timings.push(event.timing);
    return { elapsed, timings };
  };

  for (let i = 0; i < options.warmupChains; i++) await runChain(`warmup ${i}`);
  // Redis's own work over the measured chains (the bench's Redis is private to it).
  const redisProbe = new Redis(options.redisUrl);
  await redisProbe.config('RESETSTAT');
  const redisCpuBefore = await redisCpuMs(redisProbe);
  const chainTimes: number[] = [];
  const stages: HandoffStages[] = [];
  const modelCalls: number[] = [];
  for (let i = 0; i < options.chains; i++) {
    const { elapsed, timings } = await runChain(`chain ${i}`);
    chainTimes.push(elapsed);
    stages.push(...stagesOf(timings));
    modelCalls.push(...timings.map((t) => t.modelMs));
  }
  const redisWork = await redisWorkSince(redisProbe, redisCpuBefore, stages.length);
  redisProbe.disconnect();
  const firstRequestBytes = options.historyMessages > 0 ? JSON.stringify(syntheticHistory(options.historyMessages, options.historyBytesEach, 'chain 0')).length : 1000;

  await client.close();
  await deployment.close();
  const pick = (key: keyof HandoffStages) => summarize(stages.map((s) => s[key]));
  return {
    handoff: pick('total'),
    stages: { workerTail: pick('workerTail'), coordinator: pick('coordinator'), queueWait: pick('queueWait'), workerHead: pick('workerHead') },
    chain: summarize(chainTimes),
    modelCall: summarize(modelCalls),
    firstRequestBytes,
    redis: redisWork,
  };
}

/** Redis's CPU time so far (user + system), in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/** Commands Redis ran (those inside scripts included) and its CPU time, per handoff, since RESETSTAT and `cpuBefore`. */
async function redisWorkSince(redis: Redis, cpuBefore: number, handoffs: number): Promise<RedisWork> {
  const calls = [...commandCounts(await redis.info('commandstats'))];
  const total = calls.reduce((sum, [, n]) => sum + n, 0);
  const per = (n: number) => Math.round((n / Math.max(1, handoffs)) * 100) / 100;
  return {
    commandsPerHandoff: per(total),
    scriptsPerHandoff: per(calls.filter(([name]) => name === 'evalsha' || name === 'eval').reduce((sum, [, n]) => sum + n, 0)),
    cpuMsPerHandoff: Math.round(((await redisCpuMs(redis)) - cpuBefore) / Math.max(1, handoffs) * 1000) / 1000,
  };
}

interface Deployment {
  close(): Promise<void>;
}

async function startInProcess(options: RuntimeChainOptions): Promise<Deployment> {
  const model = await startScriptedModel({ rules: CHAIN_RULES });
  const network = chainNetwork(options.agents, model.url);
  const logger = pino({ level: 'silent' });
  const redis = { url: options.redisUrl, prefix: options.prefix };
  const gateway = await startGateway({ network, redis, logger });
  const workers = await startWorkers({ network, redis, logger, concurrency: 4 });
  await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
  return {
    async close() {
      await Promise.all([workers.close(), gateway.close()]);
      await model.close();
    },
  };
}

async function startSeparate(options: RuntimeChainOptions): Promise<Deployment> {
  if (options.agents !== 10) throw new Error('separate processes run the 10-agent chain module');
  const model = await startModelProcess();
  const env = { REDIS_URL: options.redisUrl, HANDOFF_PREFIX: options.prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench' };
  const roles = await Promise.all([startRole('gateway', env), startRole('worker', env, ['--concurrency', '4'])]);
  return {
    async close() {
      await Promise.all([...roles, model.process].map((p) => p.stop()));
    },
  };
}
