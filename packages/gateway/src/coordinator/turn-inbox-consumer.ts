import type { Logger } from 'pino';
import { ErrorCode, parseJsonOrRaw, toErrorJson, type ErrorJson, type KeyLayout } from '@handoff/core';
import type { RedisClient } from '@handoff/redis';

/** Seconds one BRPOP blocks before it is sent again (closing does not wait for it: the connection is cut). */
const BLOCK_SECONDS = 5;
/** At most this many results are taken off a partition's inbox in one go. */
const MAX_BATCH = 64;

/** What {@link TurnInboxConsumer} needs. */
export interface TurnInboxConsumerDeps {
  /** A blocking connection; each partition's loop blocks on a duplicate of it. */
  blocking: RedisClient;
  /** The command connection (non-blocking pops of the rest of a batch). */
  commands: RedisClient;
  keys: KeyLayout;
  logger: Logger;
  /** Applies one turn result (the coordinator's `handle`; `size` is its JSON text's length); throws when it should be tried again. */
  handle(payload: unknown, partition: number, size: number): Promise<unknown>;
  /** Settles a result that kept failing (the coordinator's `settleFailedJob`): its conversation is not left waiting. */
  settle(payload: unknown, error: ErrorJson): Promise<void>;
  /** Keeps a result that failed for good on the dead-letter queue (to inspect, and replay). */
  deadLetter(payload: unknown, error: ErrorJson, partition: number): Promise<void>;
}

/** Options of {@link TurnInboxConsumer}. */
export interface TurnInboxConsumerOptions {
  /** Partitions 0 … partitions − 1 are consumed. */
  partitions: number;
  /** Turn results applied at once, across partitions. @defaultValue 64 */
  concurrency?: number;
  /** Tries of one result before it is settled as failed. @defaultValue 5 */
  attempts?: number;
  /** Wait before the second try; doubled for each next one (with jitter). @defaultValue 500 */
  backoffMs?: number;
}

/**
 * Pops turn results off the coordinator partitions' turn inboxes and applies them, at most
 * `concurrency` at once (the rest wait in Redis: backpressure). A result that throws is tried again
 * with backoff, then settled (its conversation ends with the error) and dead-lettered. A result in this process's
 * hands when it dies is not lost: its stored copy stays, and the reconciler applies it (see
 * `TurnInbox` in @handoff/redis).
 */
export class TurnInboxConsumer {
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly connections: RedisClient[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Loops waiting for a free slot. */
  private waiters: (() => void)[] = [];
  private closing = false;
  /** Whether the server has BLMPOP (Redis ≥ 7), once known. */
  private hasLmpop: boolean | undefined;

  constructor(
    private readonly deps: TurnInboxConsumerDeps,
    private readonly options: TurnInboxConsumerOptions,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 64);
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.backoffMs = options.backoffMs ?? 500;
  }

  /** Starts one loop per partition, each on a blocking connection of its own. */
  start(): void {
    for (let partition = 0; partition < this.options.partitions; partition++) {
      const connection = this.deps.blocking.duplicate() as RedisClient;
      connection.on('error', () => undefined);
      this.connections.push(connection);
      this.loops.push(this.loop(partition, connection));
    }
  }

  /** True while every partition's loop runs. */
  isRunning(): boolean {
    return !this.closing && this.loops.length === this.options.partitions;
  }

  /** Resolves once every partition's connection is ready. */
  async waitUntilReady(): Promise<void> {
    await Promise.all(this.connections.map((c) => (c.status === 'ready' ? undefined : new Promise((resolve) => c.once('ready', resolve)))));
  }

  /**
   * Stops taking results and waits up to `drainTimeoutMs` for those being applied. A result still
   * being applied then is left to the reconciler (its stored copy stays until it applies).
   */
  async close(drainTimeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeWaiters();
    for (const connection of this.connections) connection.disconnect();
    await Promise.allSettled(this.loops);
    const drained = Promise.allSettled([...this.inFlight]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, drainTimeoutMs).unref())]);
  }

  private async loop(partition: number, connection: RedisClient): Promise<void> {
    const key = this.deps.keys.turnInbox(partition);
    while (!this.closing) {
      if (this.inFlight.size >= this.concurrency) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      let batch: string[];
      try {
        batch = await this.pop(connection, key, Math.min(MAX_BATCH, this.concurrency - this.inFlight.size));
        if (batch.length === 0) continue;
      } catch (error) {
        if (this.closing) return;
        this.deps.logger.warn({ err: error, partition }, 'turn inbox read failed; retrying');
        await sleep(1_000);
        continue;
      }
      for (const raw of batch) this.dispatch(raw, partition);
    }
  }

  /**
   * Up to `count` results, blocking until there is one: BLMPOP takes them in one call (Redis ≥ 7);
   * before it, BRPOP takes one and RPOP the rest of the batch.
   */
  private async pop(connection: RedisClient, key: string, count: number): Promise<string[]> {
    this.hasLmpop ??= await serverHasLmpop(this.deps.commands);
    if (this.hasLmpop) {
      const popped = (await connection.call('BLMPOP', BLOCK_SECONDS, 1, key, 'RIGHT', 'COUNT', count)) as [string, string[]] | null;
      return popped?.[1] ?? [];
    }
    const popped = await connection.brpop(key, BLOCK_SECONDS);
    if (!popped) return [];
    const rest = count > 1 ? ((await this.deps.commands.rpop(key, count - 1)) ?? []) : [];
    return [popped[1], ...rest];
  }

  private dispatch(raw: string, partition: number): void {
    const running = this.apply(parseJsonOrRaw(raw), partition, raw.length).finally(() => {
      this.inFlight.delete(running);
      this.wakeWaiters();
    });
    this.inFlight.add(running);
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async apply(payload: unknown, partition: number, size: number): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        await this.deps.handle(payload, partition, size);
        return;
      } catch (error) {
        lastError = error;
        // Closing: the stored copy stays; the reconciler of a live gateway applies it.
        if (this.closing) return;
        if (attempt < this.attempts) await sleep(this.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
      }
    }
    const error = toErrorJson(lastError, ErrorCode.INTERNAL);
    this.deps.logger.error({ error, partition }, 'turn result failed for good; settling its conversation');
    await this.deps.settle(payload, error).catch((settleError: unknown) => {
      // Redis is still failing: the stored copy and the in-flight entry stay for the reconciler.
      this.deps.logger.error({ err: settleError, partition }, 'settling a failed turn result failed; the reconciler will retry');
    });
    await this.deps.deadLetter(payload, error, partition).catch(() => undefined);
  }
}

/** True when the server is Redis 7 or later (BLMPOP). */
async function serverHasLmpop(redis: RedisClient): Promise<boolean> {
  try {
    const info = await redis.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    return major >= 7;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
