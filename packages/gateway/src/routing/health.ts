import type { RedisClient } from '@handoff/redis';
import { WORKER_HEARTBEAT_TTL_MS, type KeyLayout } from '@handoff/core';

/** A worker counts as live while its last heartbeat is younger than this. */
export const HEARTBEAT_TTL_MS = WORKER_HEARTBEAT_TTL_MS;

/**
 * Which agents have live workers, from the workers' heartbeats (a sorted set per agent, scored by
 * time), cached for `cacheMs` so the hot path does not read it on every hop.
 */
export class HealthView {
  private readonly cache = new Map<string, { live: number; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly cacheMs = 500,
  ) {}

  /** Worker processes of `agent` that sent a heartbeat within {@link HEARTBEAT_TTL_MS}. */
  async liveWorkers(agent: string): Promise<number> {
    const now = Date.now();
    const cached = this.cache.get(agent);
    if (cached && now - cached.at < this.cacheMs) return cached.live;
    const live = await this.redis.zcount(this.keys.workers(agent), now - HEARTBEAT_TTL_MS, '+inf');
    this.cache.set(agent, { live, at: now });
    return live;
  }
}
