import { Redis } from 'ioredis';
import pino from 'pino';
import { createClient } from '@handoff/client';
import { defineAgent, defineNetwork } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { startScriptedModel } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';

/** Redis writes caused by streaming. */
export interface StreamingMeasurement {
  tokensPerTurn: number;
  turns: number;
  textDeltaEventsPer1000Tokens: number;
  xaddPer1000Tokens: number;
  redisCommandsPerTurn: number;
}

/** Calls per command from `INFO commandstats`. */
export function commandCounts(info: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) counts.set(match[1]!, Number(match[2]));
  return counts;
}

/**
 * Redis writes per 1,000 streamed tokens: one agent answers with about `tokens` tokens, streamed
 * over time (one 4-character token per chunk, 1 ms apart); the Redis command counters before and
 * after tell how many XADDs the batched text deltas cost.
 */
export async function streaming(options: { redisUrl: string; prefix: string; tokens: number; turns: number }): Promise<StreamingMeasurement> {
  const answer = 'tok '.repeat(options.tokens);
  const model = await startScriptedModel({ rules: [{ reply: { content: answer, chunkDelayMs: 1 } }], chunkSize: 4 });
  const network = defineNetwork({
    name: 'streamer',
    agents: [defineAgent({ name: 'Writer', instructions: 'Write.', model: { name: 'scripted', baseURL: model.url, apiKey: 'bench', maxRetries: 0 } })],
  });
  const logger = pino({ level: 'silent' });
  const redisConfig = { url: options.redisUrl, prefix: options.prefix };
  const gateway = await startGateway({ network, redis: redisConfig, logger });
  const workers = await startWorkers({ network, redis: redisConfig, logger });
  await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
  const client = createClient({ redis: redisConfig });
  const redis = new Redis(options.redisUrl);
  await redis.config('RESETSTAT');
  let deltas = 0;
  for (let i = 0; i < options.turns; i++) {
    const conversation = await client.start({ agent: 'Writer', input: `write ${i}` });
    // Counted live, as the answer streams: once the conversation ends its log keeps the turn's text as one delta.
    const counted = (async () => {
      for await (const event of conversation.events()) if (event.type === 'text.delta') deltas++;
    })();
    await conversation.result({ timeoutMs: 60_000 });
    await counted;
  }
  const counts = commandCounts(await redis.info('commandstats'));
  const total = [...counts.entries()].filter(([name]) => !['info', 'config|resetstat', 'xread', 'bzpopmin', 'client|setname', 'client|setinfo'].includes(name)).reduce((sum, [, n]) => sum + n, 0);
  await client.close();
  await Promise.all([workers.close(), gateway.close()]);
  await model.close();
  redis.disconnect();
  const per1000 = (n: number) => Math.round((n / ((options.tokens * options.turns) / 1000)) * 10) / 10;
  return {
    tokensPerTurn: options.tokens,
    turns: options.turns,
    textDeltaEventsPer1000Tokens: per1000(deltas),
    xaddPer1000Tokens: per1000(counts.get('xadd') ?? 0),
    redisCommandsPerTurn: Math.round(total / options.turns),
  };
}
