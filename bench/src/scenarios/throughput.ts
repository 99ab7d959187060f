import { Redis } from 'ioredis';
import { createClient } from '@handoff/client';
import { keyLayout } from '@handoff/core';
import type { ManagedProcess } from '@handoff/testing';
import { cpuMs, startModelProcess, startRole } from '../processes.js';
import { hrNow } from '../stats.js';

/** Options of {@link throughput}. */
export interface ThroughputOptions {
  redisUrl: string;
  prefix: string;
  workerProcesses: number;
  inFlight: number;
  /** Seconds of load before measuring, and seconds measured. */
  warmupSeconds: number;
  measureSeconds: number;
}

/** Handoffs per second under sustained load. */
export interface ThroughputMeasurement {
  workerProcesses: number;
  inFlight: number;
  handoffsPerSecond: number;
  conversationsPerSecond: number;
  completed: number;
  failed: number;
  /** CPU milliseconds per handoff, by role, over the measured window. */
  cpuMsPerHandoff: Record<string, number>;
}

const HANDOFFS_PER_CHAIN = 9; // a 10-agent chain
// How often the load generator checks which conversations finished (one pipelined read).
const POLL_MS = 50;

/**
 * Sustained throughput: a gateway process, N worker processes serving every agent of the 10-agent
 * chain, the scripted model in its own process at zero latency, and this process keeping
 * `inFlight` conversations running (a finished one is replaced at once). Progress is read by
 * polling the records in one pipeline every few milliseconds: the handoffs of the window are the
 * turns applied in it (nine handoffs per ten turns), whether or not their conversation finished.
 */
export async function throughput(options: ThroughputOptions & { redisPid?: number }): Promise<ThroughputMeasurement> {
  const processes: ManagedProcess[] = [];
  const model = await startModelProcess();
  processes.push(model.process);
  try {
    const env = { REDIS_URL: options.redisUrl, HANDOFF_PREFIX: options.prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', LOG_LEVEL: 'warn' };
    processes.push(await startRole('gateway', { ...env, LOG_LEVEL: 'info' }, ['--concurrency', '256']));
    const concurrency = String(Math.max(16, Math.ceil(options.inFlight / options.workerProcesses)));
    processes.push(...(await Promise.all(Array.from({ length: options.workerProcesses }, () => startRole('worker', { ...env, LOG_LEVEL: 'info' }, ['--concurrency', concurrency])))));

    const client = createClient({ redis: { url: options.redisUrl, prefix: options.prefix } });
    const redis = new Redis(options.redisUrl);
    const keys = keyLayout(options.prefix);
    const running = new Set<string>();
    let started = 0;
    const launch = async () => {
      const conversation = await client.start({ agent: 'A1', input: `load ${started++}` });
      running.add(conversation.id);
    };
    await Promise.all(Array.from({ length: options.inFlight }, launch));

    const roles: [string, number][] = [
      ['model', model.process.pid],
      ['gateway', processes[1]!.pid],
      ...processes.slice(2).map((p, i): [string, number] => [`worker${i + 1}`, p.pid]),
      ['load generator', process.pid],
      ...(options.redisPid ? [['redis', options.redisPid] as [string, number]] : []),
    ];
    let cpuAtStart: number[] = [];
    let completed = 0;
    let failed = 0;
    let measuring = false;
    const begin = hrNow();
    let measureStart = 0;
    // Turns applied during the window, from each conversation's applied sequence: counting only the
    // conversations that finish in it would measure the edge of a batch (with hundreds in flight,
    // conversations move in step and finish together, after the window may have closed).
    const lastSeq = new Map<string, number>();
    let turnsInWindow = 0;
    const progress = (id: string, seq: number) => {
      if (measuring) turnsInWindow += Math.max(0, seq - (lastSeq.get(id) ?? 0));
      lastSeq.set(id, seq);
    };
    for (;;) {
      const now = hrNow();
      if (!measuring && now - begin >= options.warmupSeconds * 1000) {
        measuring = true;
        measureStart = now;
        cpuAtStart = await Promise.all(roles.map(([, pid]) => cpuMs(pid)));
      }
      if (measuring && now - measureStart >= options.measureSeconds * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const ids = [...running];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.conversation(id), 'status', 'appliedSeq');
      const replies = (await pipeline.exec()) ?? [];
      const replacements: Promise<void>[] = [];
      replies.forEach(([, reply], i) => {
        const [status, seq] = (reply as [string | null, string | null] | null) ?? [null, null];
        const id = ids[i]!;
        if (seq !== null) progress(id, Number(seq));
        if (status === 'running' || status === null) return;
        running.delete(id);
        lastSeq.delete(id);
        if (measuring) status === 'completed' ? completed++ : failed++;
        replacements.push(launch());
      });
      await Promise.all(replacements);
    }
    const seconds = (hrNow() - measureStart) / 1000;
    const cpuAtEnd = await Promise.all(roles.map(([, pid]) => cpuMs(pid)));
    // A chain of ten turns holds nine handoffs.
    const handoffs = Math.max(1, (turnsInWindow * HANDOFFS_PER_CHAIN) / (HANDOFFS_PER_CHAIN + 1));
    const cpuMsPerHandoff = Object.fromEntries(roles.map(([name], i) => [name, Math.round(((cpuAtEnd[i]! - cpuAtStart[i]!) / handoffs) * 1000) / 1000]));
    await client.close();
    redis.disconnect();
    return {
      workerProcesses: options.workerProcesses,
      inFlight: options.inFlight,
      handoffsPerSecond: Math.round(handoffs / seconds),
      conversationsPerSecond: Math.round((completed / seconds) * 10) / 10,
      completed,
      failed,
      cpuMsPerHandoff,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop(5_000)));
  }
}
