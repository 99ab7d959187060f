import type { Logger } from 'pino';
import { HOP_JOB_ATTEMPTS, newInstanceId } from '@handoff/core';
import { parseWakeHint, quietErrors, type HopLane, type RedisClient, type TakenHop, type WakeHint } from '@handoff/redis';

/** How a {@link HopConsumer} takes, holds and retries hops. */
export interface HopConsumerOptions {
  /** Hops run at once. */
  concurrency: number;
  /** How long a taken hop is leased; renewed every half of it while its run lasts. */
  leaseMs: number;
  /** How often leases that ran out (a dead or frozen worker's) are looked for. */
  reclaimIntervalMs: number;
  /** Stalls a hop may have before it fails (a hop that keeps killing its workers). */
  maxStalls: number;
  /** Runs a hop gets before it fails for good. @defaultValue {@link HOP_JOB_ATTEMPTS} */
  attempts?: number;
  /** The first retry's backoff; each next one doubles, with ±50% jitter. @defaultValue 500 */
  backoffMs?: number;
  /** On close, how long to wait for hand-backs and the take loop when Redis does not answer. @defaultValue 5000 */
  closeWaitMs?: number;
  /**
   * Told, just before the take it leads to, what the wake-up marker that woke the consumer says
   * of the hop pushed (its conversation): a chance to start reading that hop's input in the same
   * round trip as the take.
   */
  woken?: (hint: WakeHint) => void;
  /** Told when a hop's last attempt threw (not when it was handed back), before the hop is failed in the lane. */
  lastAttemptFailed?: (hop: TakenHop, error: unknown) => Promise<void>;
}

/** Runs one taken hop; the signal aborts when the consumer hands running hops back on shutdown. */
export type HopHandler = (hop: TakenHop, signal: AbortSignal) => Promise<unknown>;

/** Longest a consumer with nothing to do blocks before it looks again (due retries, lost wake-ups). */
const MAX_BLOCK_MS = 5_000;
/** Pause after a Redis error in the take loop. */
const ERROR_PAUSE_MS = 1_000;

/**
 * Takes hops off one agent's {@link HopLane} and runs them, at most `concurrency` at once: it
 * takes what is waiting, and when nothing is, blocks on the lane's wake-up list on a connection of
 * its own. While a hop runs its lease is renewed; when the run ends the hop leaves the lane; when
 * it throws it is retried with backoff, then failed. Every `reclaimIntervalMs` it puts back the
 * hops whose leases ran out. On close it stops taking, lets running hops finish for the drain
 * timeout, then hands the rest back.
 */
export class HopConsumer {
  /** This consumer's token: each run's lease holder is `<token>:<run>`. */
  private readonly token: string;
  private readonly waker: RedisClient;
  /** Runs going on, by hop id and run number (a hop whose lease ran out may be taken again while a late run of it ends). */
  private readonly running = new Map<string, { hop: TakenHop; abort: AbortController }>();
  private releasing = false;
  private loop: Promise<void> | undefined;
  /** Set by {@link close}: from then on no hop is taken. */
  private closed: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;
  private ready!: () => void;
  /** Resolves once the first take has been made. */
  readonly readyPromise = new Promise<void>((resolve) => (this.ready = resolve));
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly lane: HopLane,
    /** A connection to duplicate for the blocking wait (not used itself). */
    connection: RedisClient,
    private readonly handler: HopHandler,
    private readonly options: HopConsumerOptions,
    private readonly logger: Logger,
    workerId: string,
  ) {
    this.token = `${workerId}:${newInstanceId('lane')}`;
    this.waker = quietErrors(connection.duplicate());
  }

  private get closing(): boolean {
    return this.closed !== undefined;
  }

  /** Starts taking hops. */
  start(): void {
    if (this.loop || this.closing) return;
    const renewEvery = Math.max(100, Math.floor(this.options.leaseMs / 2));
    this.timers.push(setInterval(() => void this.renew(), renewEvery), setInterval(() => void this.reclaim(), this.options.reclaimIntervalMs));
    for (const timer of this.timers) timer.unref();
    this.loop = this.reclaim().then(() => this.takeLoop());
  }

  private async takeLoop(): Promise<void> {
    const { concurrency, leaseMs } = this.options;
    while (!this.closing) {
      const free = concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let taken: Awaited<ReturnType<HopLane['take']>>;
      try {
        taken = await this.lane.take(this.token, leaseMs, free);
      } catch (error) {
        if (this.closing) break;
        this.logger.warn({ err: error }, 'could not take hops; trying again');
        await pause(ERROR_PAUSE_MS);
        continue;
      } finally {
        this.ready();
      }
      if (this.closing) {
        // Closed while taking: what was taken goes back at once.
        await Promise.all(taken.hops.map((hop) => this.lane.release(hop.holder, hop.id).catch(() => false)));
        break;
      }
      for (const hop of taken.hops) this.run(hop);
      // Fewer than asked for: the lane was empty, and any push from now on leaves a wake-up marker.
      if (taken.hops.length === free) continue;
      const blockMs = Math.min(MAX_BLOCK_MS, Math.max(10, taken.nextRetryInMs ?? Infinity));
      let marker: string | undefined;
      try {
        marker = (await this.waker.blpop(this.lane.keys.wake, blockMs / 1000))?.[1];
      } catch (error) {
        if (this.closing) break;
        this.logger.warn({ err: error }, 'waiting for hops failed; trying again');
        await pause(ERROR_PAUSE_MS);
      }
      this.tellWoken(marker);
    }
  }

  /** Passes what a wake-up marker says of its hop to `woken` (a hint: whatever it does, the take follows). */
  private tellWoken(marker: string | undefined): void {
    const hint = marker === undefined || this.closing ? null : parseWakeHint(marker);
    if (!hint || !this.options.woken) return;
    try {
      this.options.woken(hint);
    } catch (error) {
      this.logger.warn({ err: error }, 'reading ahead for a wake-up failed; the hop is read when taken');
    }
  }

  private run(hop: TakenHop): void {
    const abort = new AbortController();
    const key = `${hop.id}#${hop.runs}`;
    this.running.set(key, { hop, abort });
    void this.handler(hop, abort.signal)
      .then(
        async () => {
          if (!(await this.lane.finish(hop.holder, hop.id))) this.logger.warn({ hopJobId: hop.id }, 'hop finished after its lease ran out (another run may have taken it)');
        },
        async (error: unknown) => {
          if (this.releasing && abort.signal.aborted) {
            // Shutting down past the drain timeout: the hop goes back, untouched, to other replicas.
            await this.lane.release(hop.holder, hop.id);
            return;
          }
          const attempts = this.options.attempts ?? HOP_JOB_ATTEMPTS;
          if (hop.fails + 1 >= attempts) await this.options.lastAttemptFailed?.(hop, error).catch((reportError: unknown) => this.logger.warn({ hopJobId: hop.id, err: reportError }, 'could not report a hop\'s last failed attempt; the failure sweep will'));
          const backoff = (this.options.backoffMs ?? 500) * 2 ** hop.fails * (0.5 + Math.random());
          const reason = error instanceof Error ? error.message : String(error);
          const outcome = await this.lane.fail(hop.holder, hop.id, reason, attempts, Math.round(backoff));
          this.logger.error({ hopJobId: hop.id, err: error, attempt: hop.fails + 1, attempts, outcome }, 'hop run failed');
        },
      )
      .catch((error: unknown) => this.logger.warn({ hopJobId: hop.id, err: error }, 'could not record the end of a hop run; its lease will run out and it will be taken again'))
      .finally(() => {
        this.running.delete(key);
        const freed = this.slotFreed;
        this.slotFreed = undefined;
        freed?.();
      });
  }

  private async renew(): Promise<void> {
    try {
      const lost = await this.lane.renew(this.options.leaseMs, [...this.running.values()].map(({ hop }) => ({ id: hop.id, holder: hop.holder })));
      if (lost.length > 0) this.logger.warn({ hopJobIds: lost }, 'lost the lease of running hops (they may run again elsewhere)');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not renew hop leases');
    }
  }

  private async reclaim(): Promise<void> {
    try {
      const { requeued, failed } = await this.lane.reclaim(this.options.maxStalls);
      if (requeued + failed > 0) this.logger.warn({ requeued, failed, agent: this.lane.agent }, 'hops whose worker stopped renewing their lease were put back (or failed, past the stall limit)');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not reclaim stalled hops');
    }
  }

  /**
   * Stops taking hops and waits up to `drainTimeoutMs` for running ones to finish; those still
   * running then are aborted and handed back to the lane for other replicas (not failed, not
   * counted as an attempt). Idempotent.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    this.closed ??= this.closeNow(drainTimeoutMs);
    return this.closed;
  }

  private async closeNow(drainTimeoutMs: number): Promise<void> {
    this.ready();
    this.waker.disconnect();
    const freed = this.slotFreed;
    this.slotFreed = undefined;
    freed?.();
    const deadline = Date.now() + drainTimeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) await pause(Math.min(20, deadline - Date.now()));
    if (this.running.size > 0) {
      this.releasing = true;
      this.logger.warn({ drainTimeoutMs, running: this.running.size }, 'drain timeout: handing running turns back to the queue');
      for (const { abort } of this.running.values()) abort.abort(new Error('shutting down'));
      const giveUpAt = Date.now() + (this.options.closeWaitMs ?? 5_000);
      while (this.running.size > 0 && Date.now() < giveUpAt) await pause(20);
      // Redis unreachable: what could not be handed back comes back when its lease runs out.
      if (this.running.size > 0) this.logger.warn({ running: this.running.size }, 'could not hand running hops back; they return to the lane when their leases run out');
    }
    for (const timer of this.timers) clearInterval(timer);
    // The loop ends at its next step; a take stuck on a dead Redis is not waited for beyond the bound.
    await Promise.race([this.loop, pause(this.options.closeWaitMs ?? 5_000, { unref: true })]);
  }
}

function pause(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}
