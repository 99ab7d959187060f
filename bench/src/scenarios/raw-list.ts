import { Redis } from 'ioredis';
import { hrNow, summarize, type Summary } from '../stats.js';

/** Options of {@link rawListHops}. */
export interface RawListOptions {
  redisUrl: string;
  prefix: string;
  payloadBytes: number;
  /** Lists in the chain (hops per chain = lists). */
  lists: number;
  chains: number;
  warmupChains: number;
}

/**
 * What a hop would cost without a job queue: a chain of plain Redis lists, each consumer blocked
 * in `BRPOP` on its own connection and pushing to the next list with `LPUSH` — from the push to
 * the consumer holding the payload, one chain at a time. No lease, no retry, no retention: the
 * floor under any list-based hop, for comparison with the raw BullMQ hop.
 */
export async function rawListHops(options: RawListOptions): Promise<Summary> {
  const producer = new Redis(options.redisUrl);
  const payload = 'x'.repeat(options.payloadBytes);
  const keys = Array.from({ length: options.lists }, (_, i) => `${options.prefix}:list-${i}`);
  const consumers = keys.map(() => new Redis(options.redisUrl));
  const samples: number[] = [];
  let recording = false;
  let finishChain: (() => void) | undefined;
  let stopping = false;

  const consume = async (index: number): Promise<void> => {
    const connection = consumers[index]!;
    while (!stopping) {
      const popped = await connection.brpop(keys[index]!, 0.2).catch(() => null);
      if (!popped) continue;
      const message = JSON.parse(popped[1]) as { sentAt: number };
      if (recording) samples.push(hrNow() - message.sentAt);
      const next = keys[index + 1];
      if (next) await producer.lpush(next, JSON.stringify({ payload, sentAt: hrNow() }));
      else finishChain?.();
    }
  };
  const loops = keys.map((_, i) => consume(i));

  const runChain = () =>
    new Promise<void>((resolve) => {
      finishChain = resolve;
      void producer.lpush(keys[0]!, JSON.stringify({ payload, sentAt: hrNow() }));
    });
  for (let i = 0; i < options.warmupChains; i++) await runChain();
  recording = true;
  for (let i = 0; i < options.chains; i++) await runChain();

  stopping = true;
  await Promise.all(loops);
  await producer.del(...keys);
  for (const connection of [producer, ...consumers]) connection.disconnect();
  return summarize(samples);
}
