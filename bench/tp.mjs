import { RedisServerProcess } from '@handoff/testing';
import { throughput } from './dist/scenarios/throughput.js';
const redis = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no'] });
await redis.start();
console.log(await throughput({ redisUrl: redis.url, prefix: 'tp', workerProcesses: Number(process.argv[2] ?? 1), inFlight: Number(process.argv[3] ?? 50), warmupSeconds: 1, measureSeconds: 5, redisPid: redis.pid }));
await redis.stop();
