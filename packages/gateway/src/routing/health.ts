import type { RedisClient } from '@handoff/redis';
import { WORKER_HEARTBEAT_TTL_MS, type KeyLayout } from '@handoff/core';

/** A worker counts as live while its last heartbeat is younger than this. */
export const HEARTBEAT_TTL_MS = WORKER_HEARTBEAT_TTL_MS;

/** How often {@link HealthView.watch} checks that Redis answers. */
const WATCH_INTERVAL_MS = 500;

/**
 * How long heartbeats are not judged by their age once Redis answers again: long enough for a
 * worker's reconnect (its backoff is at most 2 s) and its next beat (every second), twice over.
 */
export const OUTAGE_GRACE_MS = 2 * HEARTBEAT_TTL_MS;

/** A count older than the cache time but younger than this many cache times is answered at once and refreshed behind the answer. */
const STALE_FACTOR = 4;

/**
 * Which agents have live workers, from the workers' heartbeats (a sorted set per agent, scored by
 * time), cached for `cacheMs` so the hot path does not read it on every hop. A count up to
 * 4 × `cacheMs` old is still answered at once, and read again behind the answer (one read per
 * agent at a time), so a steady stream of hops never waits for the read; an older one is read
 * before answering.
 *
 * A heartbeat that is old because Redis was unreachable says nothing about the worker. When this
 * process's connection comes back, or Redis answers again after not answering for longer than
 * {@link HEARTBEAT_TTL_MS} (it was stopped, or the network was), heartbeats are not judged by
 * their age for {@link OUTAGE_GRACE_MS}: a worker with any heartbeat entry counts as live, and an
 * agent whose entries are gone (Redis came back empty) keeps the count it had before — by then
 * live workers have beaten again.
 */
export class HealthView {
  private readonly cache = new Map<string, { live: number; at: number }>();
  /** Agents whose count is being read again behind a cached answer. */
  private readonly refreshing = new Set<string>();
  /** Until when (ms) heartbeats are not judged by their age. */
  private graceUntil = 0;
  private wasDown = false;
  private watcher: NodeJS.Timeout | undefined;
  private lastAnswerAt = Date.now();
  private probing = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly cacheMs = 500,
  ) {
    redis.on('close', () => {
      this.wasDown = true;
    });
    redis.on('ready', () => {
      if (!this.wasDown) return;
      this.wasDown = false;
      this.startGrace();
    });
  }

  /** Checks every {@link WATCH_INTERVAL_MS} that Redis answers, to notice an outage that closed no connection (a stopped or unreachable server). */
  watch(): void {
    this.watcher ??= setInterval(() => void this.probe(), WATCH_INTERVAL_MS);
    this.watcher.unref();
  }

  /** Stops {@link HealthView.watch}. */
  stop(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
  }

  /** Worker processes of `agent` that sent a heartbeat within {@link HEARTBEAT_TTL_MS} (see the class for the grace after an outage). */
  async liveWorkers(agent: string): Promise<number> {
    const started = Date.now();
    const cached = this.cache.get(agent);
    if (cached && started >= this.graceUntil) {
      const age = started - cached.at;
      if (age < this.cacheMs) return cached.live;
      if (age < this.cacheMs * STALE_FACTOR) {
        this.refreshBehind(agent);
        return cached.live;
      }
    }
    return this.read(agent, started, cached);
  }

  /** Reads the count again without anyone waiting for it (a failed read leaves the cached one). */
  private refreshBehind(agent: string): void {
    if (this.refreshing.has(agent)) return;
    this.refreshing.add(agent);
    void this.read(agent, Date.now(), this.cache.get(agent))
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(agent));
  }

  private async read(agent: string, started: number, cached: { live: number } | undefined): Promise<number> {
    const key = this.keys.workers(agent);
    const live = await this.redis.zcount(key, started - HEARTBEAT_TTL_MS, '+inf');
    const now = Date.now();
    // Decided once the reply is in: a reply that took longer than a heartbeat's life came from an outage.
    if (now - started > HEARTBEAT_TTL_MS) this.startGrace();
    // In the grace, every worker with an entry counts, whatever its age (read only then).
    if (now < this.graceUntil) return Math.max(await this.redis.zcard(key), cached?.live ?? 0);
    this.cache.set(agent, { live, at: now });
    return live;
  }

  private startGrace(): void {
    this.graceUntil = Date.now() + OUTAGE_GRACE_MS;
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.redis.ping();
      const now = Date.now();
      if (now - this.lastAnswerAt > HEARTBEAT_TTL_MS) this.startGrace();
      this.lastAnswerAt = now;
    } catch {
      // Not answering: the next answer starts the grace.
    } finally {
      this.probing = false;
    }
  }
}
