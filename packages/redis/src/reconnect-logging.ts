import { redactUrlCredentials } from '@handoff/core';
import type { RedisClient } from './connection.js';

/** Where connection state changes are reported: a pino logger fits. */
export interface ConnectionLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/** While Redis stays away, every this many reconnect attempts is logged again (about a minute at the 2 s backoff). */
const LOG_EVERY_ATTEMPTS = 30;

/**
 * Makes a long-running process say what its connection does while Redis is away: "redis
 * unreachable, reconnecting" when the connection drops (or the first connect fails), again every
 * {@link LOG_EVERY_ATTEMPTS} attempts, and "redis connection restored" once it is back — each with
 * the URL (password redacted) and the last error. The connection keeps reconnecting by itself.
 */
export function logReconnects(connection: RedisClient, url: string, name: string, logger: ConnectionLogger): void {
  const redis = redactUrlCredentials(url);
  let attempts = 0;
  let lastError: string | undefined;
  connection.on('error', (error: Error & { code?: string }) => {
    lastError = error.code ?? error.message;
  });
  connection.on('reconnecting', (delayMs: unknown) => {
    attempts += 1;
    if (attempts === 1 || attempts % LOG_EVERY_ATTEMPTS === 0) {
      logger.warn({ redis, connection: name, attempts, ...(typeof delayMs === 'number' ? { retryInMs: delayMs } : {}), ...(lastError ? { error: lastError } : {}) }, 'redis unreachable, reconnecting');
    }
  });
  connection.on('ready', () => {
    if (attempts > 0) logger.info({ redis, connection: name, attempts }, 'redis connection restored');
    attempts = 0;
  });
}
