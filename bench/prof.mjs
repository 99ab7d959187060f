import { RedisServerProcess } from '@handoff/testing';
import { runtimeChain } from './dist/scenarios/runtime-chain.js';
const redis = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no'] });
await redis.start();
const r = await runtimeChain({ redisUrl: redis.url, prefix: 'p', agents: 10, chains: 300, warmupChains: 20, historyMessages: 0, historyBytesEach: 0, separateProcesses: process.argv[2] === 'sep' });
console.log(JSON.stringify(r.handoff), JSON.stringify(r.stages));
await redis.stop();
