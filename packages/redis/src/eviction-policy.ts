import type { Redis } from 'ioredis';
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
  redis: Redis,
  options: { allowEviction?: boolean; warn?: (message: string) => void } = {},
): Promise<EvictionPolicyCheck> {
  const info = await redis.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown';
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
