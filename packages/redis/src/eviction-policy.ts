import type { RedisClient } from './connection.js';
import { UnsafeRedisConfigError } from '@handoff/core';

/** What {@link checkEvictionPolicy} found. */
export interface EvictionPolicyCheck {
  policy: string;
  safe: boolean;
}

/**
 * Reads Redis's `maxmemory-policy` (from INFO, which works where CONFIG is disabled, as on managed
 * Redis). Any policy but `noeviction` lets Redis delete queue and conversation keys under memory
 * pressure, which loses conversations silently.
 * @throws {@link UnsafeRedisConfigError} for another policy, unless `allowEviction` is set (then
 * `warn` is called instead).
 */
export async function checkEvictionPolicy(
  redis: RedisClient,
  options: { allowEviction?: boolean; warn?: (message: string) => void } = {},
): Promise<EvictionPolicyCheck> {
  // On a cluster, every master must be safe: report the first that is not (the ping connects, so the nodes are known).
  await redis.ping();
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
  const policies = await Promise.all(nodes.map(async (node) => /maxmemory_policy:(\S+)/.exec(await node.info('memory'))?.[1] ?? 'unknown'));
  const policy = policies.find((p) => p !== 'noeviction') ?? policies[0] ?? 'unknown';
  const safe = policy === 'noeviction';
  if (!safe) {
    const message =
      `Redis maxmemory-policy is "${policy}"; Handoff needs "noeviction", or Redis may delete queued hops and conversations ` +
      'when memory runs low. Fix: run CONFIG SET maxmemory-policy noeviction (and set it in redis.conf), ' +
      'or pass --allow-eviction / HANDOFF_ALLOW_EVICTION=1 to run anyway.';
    if (!options.allowEviction) throw new UnsafeRedisConfigError(message, { policy });
    options.warn?.(message);
  }
  return { policy, safe };
}
