import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { hrNow, summarize, type Summary } from '../stats.js';

/** Options of {@link rawBullmqHops}. */
export interface RawHopOptions {
  redisUrl: string;
  prefix: string;
  payloadBytes: number;
  /** Queues in the chain (hops per chain = queues). */
  queues: number;
  chains: number;
  warmupChains: number;
}

/**
 * The floor: a raw BullMQ hop on the same Redis — from `Queue.add` to the processor's entry on the
 * next queue — in a chain of queues, each processor adding to the next, one chain at a time.
 */
export async function rawBullmqHops(options: RawHopOptions): Promise<Summary> {
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const payload = 'x'.repeat(options.payloadBytes);
  const names = Array.from({ length: options.queues }, (_, i) => `raw-${i}`);
  const queues = names.map((name) => new Queue(name, { connection, prefix: options.prefix }));
  const samples: number[] = [];
  let recording = false;
  let finishChain: (() => void) | undefined;

  const workers = names.map(
    (name, i) =>
      new Worker(
        name,
        async (job) => {
          const latency = hrNow() - (job.data.sentAt as number);
          if (recording) samples.push(latency);
          const next = queues[i + 1];
          if (next) await next.add('hop', { payload, sentAt: hrNow() }, { removeOnComplete: true });
          else finishChain?.();
        },
        { connection, prefix: options.prefix, concurrency: 1 },
      ),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  const runChain = () =>
    new Promise<void>((resolve) => {
      finishChain = resolve;
      void queues[0]!.add('hop', { payload, sentAt: hrNow() }, { removeOnComplete: true });
    });
  for (let i = 0; i < options.warmupChains; i++) await runChain();
  recording = true;
  for (let i = 0; i < options.chains; i++) await runChain();

  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.obliterate({ force: true }).then(() => q.close())));
  connection.disconnect();
  return summarize(samples);
}
