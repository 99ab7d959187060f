import type { RedisClient } from './connection.js';
import { z } from 'zod';
import { DEFAULT_COORDINATOR_PARTITIONS, type KeyLayout, type NetworkDefinition } from '@handoff/core';

/** What the gateway publishes about its network, so clients can check names before starting. */
export const NetworkRegistration = z.object({
  name: z.string(),
  entry: z.string(),
  maxHops: z.number().int(),
  agents: z.array(z.object({ name: z.string(), description: z.string(), handoffs: z.array(z.string()), maxWaiting: z.number().int().optional() })),
  /** Routers a conversation may start on. */
  routers: z.array(z.string()).default([]),
  /** How many coordinator queue partitions the gateways consume (producers put each conversation's jobs in its partition). */
  coordinatorPartitions: z.number().int().min(1).default(DEFAULT_COORDINATOR_PARTITIONS),
  registeredAt: z.number().int(),
});
/** What the gateway publishes about its network. */
export type NetworkRegistration = z.infer<typeof NetworkRegistration>;

/** Publishes the network under the key prefix (overwrites an older registration). */
export async function registerNetwork(redis: RedisClient, keys: KeyLayout, network: NetworkDefinition, options: { coordinatorPartitions?: number } = {}): Promise<NetworkRegistration> {
  const registration: NetworkRegistration = {
    name: network.name,
    entry: network.entry,
    maxHops: network.maxHops,
    agents: network.agentNames.map((name) => {
      const agent = network.agent(name);
      return {
        name,
        description: agent.description,
        handoffs: agent.handoffs.flatMap((h) => (h.agent === undefined ? [] : [h.agent])),
        ...(agent.maxWaiting === undefined ? {} : { maxWaiting: agent.maxWaiting }),
      };
    }),
    routers: Object.keys(network.routers),
    coordinatorPartitions: options.coordinatorPartitions ?? DEFAULT_COORDINATOR_PARTITIONS,
    registeredAt: Date.now(),
  };
  await redis.set(keys.network, JSON.stringify(registration));
  return registration;
}

/** The registered network, or null when no gateway has registered one. */
export async function readNetworkRegistration(redis: RedisClient, keys: KeyLayout): Promise<NetworkRegistration | null> {
  const raw = await redis.get(keys.network);
  return raw === null ? null : NetworkRegistration.parse(JSON.parse(raw));
}

/**
 * The coordinator partition count producers use: what the gateway registered (read at most every
 * `refreshMs`), or a fixed count. Before any gateway registered, the default.
 */
export class CoordinatorPartitions {
  private cached: { count: number; at: number } | undefined;

  constructor(
    private readonly source: { redis: RedisClient; keys: KeyLayout } | number,
    private readonly refreshMs = 10_000,
  ) {}

  /** The partition count now. */
  async count(): Promise<number> {
    if (typeof this.source === 'number') return this.source;
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.refreshMs) return this.cached.count;
    const registration = await readNetworkRegistration(this.source.redis, this.source.keys);
    const count = registration?.coordinatorPartitions ?? DEFAULT_COORDINATOR_PARTITIONS;
    this.cached = { count, at: now };
    return count;
  }
}
