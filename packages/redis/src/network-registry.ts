import type { RedisClient } from './connection.js';
import { z } from 'zod';
import type { KeyLayout, NetworkDefinition } from '@handoff/core';

/** What the gateway publishes about its network, so clients can check names before starting. */
export const NetworkRegistration = z.object({
  name: z.string(),
  entry: z.string(),
  maxHops: z.number().int(),
  agents: z.array(z.object({ name: z.string(), description: z.string(), handoffs: z.array(z.string()), maxWaiting: z.number().int().optional() })),
  /** Routers a conversation may start on. */
  routers: z.array(z.string()).default([]),
  registeredAt: z.number().int(),
});
/** What the gateway publishes about its network. */
export type NetworkRegistration = z.infer<typeof NetworkRegistration>;

/** Publishes the network under the key prefix (overwrites an older registration). */
export async function registerNetwork(redis: RedisClient, keys: KeyLayout, network: NetworkDefinition): Promise<NetworkRegistration> {
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
