import { ProviderUnavailableError, type ProvisionedRedis } from './provisioned-redis.js';
import { connect } from 'node:net';

/**
 * Uses the Redis at `REDIS_URL` (checked with a TCP connect within 2 s). `stop()` does nothing:
 * that Redis belongs to someone else.
 *
 * @throws {@link ProviderUnavailableError} when `REDIS_URL` is unset, malformed or unreachable
 */
export async function useRedisFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<ProvisionedRedis> {
  const raw = env['REDIS_URL'];
  if (!raw) throw new ProviderUnavailableError('REDIS_URL is not set');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProviderUnavailableError(`REDIS_URL is not a URL: ${raw}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ProviderUnavailableError(`REDIS_URL must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(url.port || 6379);
  const failure = await tcpReachable(host, port, 2000);
  if (failure !== undefined) throw new ProviderUnavailableError(`REDIS_URL=${redact(url)}: ${failure}`);
  return { url: raw, host, port, provider: 'env', stop: async () => {} };
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (reason: string | undefined): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => finish(`no connection within ${timeoutMs} ms`));
    socket.once('connect', () => finish(undefined));
    socket.once('error', (err) => finish(err.message));
  });
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}
