import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createClient } from '@handoff/client';
import { startGateway } from '@handoff/gateway';
import { startScriptedModel } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';
import { CHAIN_RULES, chainNetwork } from '../chain-script.js';
import { commandCounts } from './streaming.js';

/** Options of {@link redisCost}. */
export interface RedisCostOptions {
  /** Conversations measured (10-agent chains, 9 handoffs each), after a few to warm up. */
  chains: number;
  /** Conversations running at once. */
  inFlight: number;
}

/** Redis's work per handoff, counted in instructions (repeatable whatever else the machine does). */
export interface RedisCostMeasurement {
  handoffs: number;
  /** Instructions Redis executed per handoff (callgrind), over the measured chains only. */
  instructionsPerHandoff: number;
  /** Commands Redis ran per handoff, those inside scripts included. */
  commandsPerHandoff: number;
  /** Script calls (EVALSHA/EVAL) per handoff. */
  scriptsPerHandoff: number;
}

const HANDOFFS_PER_CHAIN = 9;

/**
 * Redis's cost per handoff in instructions: redis-server runs under valgrind's callgrind, which
 * counts the instructions it executes — the same count for the same work however loaded the
 * machine is, so two builds compare exactly where timings would drown in noise. The gateway and
 * the workers run in this process (as in the runtime chain), `inFlight` conversations at a time on
 * the 10-agent chain. Returns undefined when valgrind is not installed.
 */
export async function redisCost(options: RedisCostOptions): Promise<RedisCostMeasurement | undefined> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'handoff-redis-cost-'));
  const port = await freePort();
  const server = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out')}`, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => 200 });
  probe.on('error', () => undefined); // refused until valgrind's Redis is up
  try {
    await waitForPing(probe, server);
    const model = await startScriptedModel({ rules: CHAIN_RULES });
    const network = chainNetwork(10, model.url);
    const logger = pino({ level: 'silent' });
    const redis = { url, prefix: 'cost' };
    const gateway = await startGateway({ network, redis, logger });
    const workers = await startWorkers({ network, redis, logger, concurrency: 16 });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    const client = createClient({ redis });
    const run = async (count: number, tag: string) => {
      let next = 0;
      await Promise.all(Array.from({ length: options.inFlight }, async () => {
        while (next < count) {
          const i = next++;
          const conversation = await client.start({ agent: 'A1', input: `${tag} ${i}` });
          const result = await conversation.result({ timeoutMs: 300_000 });
          if (result.status !== 'completed') throw new Error(`chain ${tag} ${i} ended ${result.status}`);
        }
      }));
    };
    await run(Math.max(options.inFlight, 10), 'warmup');
    await probe.config('RESETSTAT');
    execFileSync('callgrind_control', ['--zero', String(server.pid)], { stdio: 'ignore' });
    await run(options.chains, 'chain');
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
    const calls = [...commandCounts(await probe.info('commandstats'))];
    await client.close();
    await Promise.all([workers.close(), gateway.close()]);
    await model.close();
    const handoffs = options.chains * HANDOFFS_PER_CHAIN;
    const per = (n: number) => Math.round((n / handoffs) * 100) / 100;
    const scripts = calls.filter(([name]) => name === 'evalsha' || name === 'eval').reduce((sum, [, n]) => sum + n, 0);
    const instructions = await dumpedInstructions(dir);
    return {
      handoffs,
      instructionsPerHandoff: Math.round(instructions / handoffs),
      commandsPerHandoff: per(calls.reduce((sum, [, n]) => sum + n, 0)),
      scriptsPerHandoff: per(scripts),
    };
  } finally {
    probe.disconnect();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The instruction total of the callgrind dump that `callgrind_control --dump` wrote in `dir` (`callgrind.out.<n>`). */
async function dumpedInstructions(dir: string): Promise<number> {
  const dump = (await readdir(dir)).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()))[0];
  if (!dump) throw new Error(`no callgrind dump in ${dir}`);
  const match = /^(?:summary|totals): (\d+)/m.exec(await readFile(join(dir, dump), 'utf8'));
  if (!match) throw new Error(`no instruction total in ${dump}`);
  return Number(match[1]);
}

async function waitForPing(probe: Redis, server: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (server.exitCode !== null) throw new Error(`redis-server under valgrind exited with ${server.exitCode}`);
    try {
      if (probe.status === 'wait') await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('redis-server under valgrind did not answer within 60 s');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
