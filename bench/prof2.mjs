import { RedisServerProcess } from '@handoff/testing';
import { runtimeChain } from './dist/scenarios/runtime-chain.js';
import { summarize } from './dist/stats.js';
import { Redis } from 'ioredis';
const redis = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no'] });
await redis.start();
// capture timings via events
const r = await runtimeChain({ redisUrl: redis.url, prefix: 'p', agents: 10, chains: 100, warmupChains: 10, historyMessages: 0, historyBytesEach: 0 });
console.log(JSON.stringify(r.stages.coordinator));
const starts = new Map(globalThis.__h.filter(([h]) => h).map(([h, t]) => [h, t]));
// read all events from redis for timing
const rr = new Redis(redis.url);
const keys = await rr.keys('p:conv:*:events');
const pickup = [], processing = [];
for (const k of keys) {
  const ev = (await rr.xrange(k, '-', '+')).map(([, f]) => JSON.parse(f[1])).filter((e) => e.type === 'agent.completed');
  ev.sort((a, b) => a.seq - b.seq);
  for (let i = 0; i + 1 < ev.length; i++) {
    const hs = starts.get(ev[i].hopId);
    if (!hs) continue;
    pickup.push(hs - ev[i].timing.finishedAt);
    processing.push(ev[i + 1].timing.queuedAt - hs);
  }
}
console.log('pickup', JSON.stringify(summarize(pickup)));
console.log('processing', JSON.stringify(summarize(processing)));
rr.disconnect();
await redis.stop();
