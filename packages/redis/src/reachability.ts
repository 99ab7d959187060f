import { Redis } from 'ioredis';
import { RedisUnreachableError, redactUrlCredentials } from '@handoff/core';
import type { RedisClient } from './connection.js';

/** How long a one-shot command waits for Redis by default before it gives up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Waits until Redis at `url` answers a PING, retrying the connection (Redis may be starting) for up
 * to `timeoutMs`. For a Redis Cluster, `url` is the seed node, which is what is checked. What one-shot
 * commands (`handoff inspect`, `dlq`, `run`) do before anything else, so that an unreachable Redis
 * ends them with a message instead of a silent wait.
 * @throws {@link RedisUnreachableError} naming the URL (password redacted) and what to check.
 * `onFirstFailure` hears the first failed attempt (to say that the process waits).
 * @throws the error Redis answered with, when it answered but refused (e.g. WRONGPASS, NOAUTH).
 */
export async function assertRedisReachable(url: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, onFirstFailure?: (error: string) => void): Promise<void> {
  let lastError: string | undefined;
  let giveUp = false;
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: Math.max(100, Math.min(timeoutMs, 2_000)),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => (giveUp ? null : Math.min(50 * 2 ** Math.min(attempt, 5), 500)),
    connectionName: 'handoff-probe',
  });
  probe.on('error', (error: Error & { code?: string }) => {
    if (lastError === undefined) onFirstFailure?.(error.code ?? error.message);
    lastError = error.code ?? error.message;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const answered = probe.connect().catch(() => undefined).then(() => probe.ping());
    // A refusal from Redis itself (auth, ACL) is its own error, thrown as is.
    const outcome = await Promise.race([answered, timedOut]);
    if (outcome === 'timeout') throw new RedisUnreachableError(redactUrlCredentials(url), timeoutMs, lastError);
  } finally {
    giveUp = true;
    clearTimeout(timer);
    probe.disconnect();
  }
}

/**
 * Resolves once `redis` (a connection already connecting, e.g. from `createRedisConnection`) is
 * ready; at once when it is. Long-lived clients call it before their first command, so that an
 * unreachable Redis is reported within `timeoutMs` instead of after ioredis' command retries
 * (~35 s, a `MaxRetriesPerRequestError` that names nothing).
 * @throws {@link RedisUnreachableError} naming `url` (password redacted) and what to check.
 */
export async function waitUntilConnected(redis: RedisClient, url: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: string | undefined;
  const onError = (error: Error & { code?: string }) => {
    lastError = error.code ?? error.message;
  };
  let onReady: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  redis.on('error', onError);
  try {
    const ready = await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      redis.once('ready', onReady);
      timer = setTimeout(() => resolve(redis.status === 'ready'), timeoutMs);
    });
    if (!ready) throw new RedisUnreachableError(redactUrlCredentials(url), timeoutMs, lastError);
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
    if (onReady) redis.off('ready', onReady);
  }
}
