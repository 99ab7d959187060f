import type { Logger } from 'pino';
import { redactUrlCredentials } from '@handoff/core';
import { assertRedisReachable, resolveRedisConfig } from '@handoff/redis';
import { redisConfigFromFlags, type RunFlags } from './options.js';

/** How long `handoff worker` and `handoff gateway` wait for Redis at start (it may be starting alongside them). */
export const LONG_RUNNING_CONNECT_TIMEOUT_MS = 30_000;

/**
 * Waits until the deployment's Redis answers before a worker or gateway starts, for
 * `--connect-timeout` (`HANDOFF_CONNECT_TIMEOUT_MS`, 30 s by default), logging once that it waits.
 * Once started, a process keeps reconnecting when its connection drops; at start, an unreachable
 * Redis is a configuration error to report, not to wait out.
 * @throws RedisUnreachableError naming the URL (password redacted) and what to check
 */
export async function waitForRedis(flags: RunFlags, logger: Logger): Promise<void> {
  const { url } = resolveRedisConfig(redisConfigFromFlags(flags));
  const timeoutMs = flags.connectTimeout ?? LONG_RUNNING_CONNECT_TIMEOUT_MS;
  await assertRedisReachable(url, timeoutMs, (error) =>
    logger.warn({ redis: redactUrlCredentials(url), error, timeoutMs }, 'redis unreachable, waiting for it'),
  );
}
