import { resolve } from 'node:path';
import type { NetworkDefinition } from '@handoff/core';
import { startDevRuntime, type DevRuntime } from '../dev/dev-runtime.js';
import { watchNetworkFile } from '../dev/network-watcher.js';
import { startPrivateRedis, type PrivateRedis } from '../dev/private-redis.js';
import { loadNetwork } from '../load-network.js';
import { createLogger } from '../logger.js';
import { parseFlags } from '../options.js';
import { SHUTDOWN_MARGIN_MS, closeOnSignals } from '../shutdown.js';

/** How long running turns may finish when `handoff dev` reloads or stops, unless --drain-timeout says otherwise. */
const DEV_DRAIN_TIMEOUT_MS = 5_000;

/** The lines `handoff dev` prints (stdout) when a network runs. */
function describeRunning(network: NetworkDefinition, base: string): string {
  return `network "${network.name}" — agents ${network.agentNames.join(', ')}\n  console  ${base}/console/\n  API      ${base}/v1 (no authentication: local use only)`;
}

/**
 * `handoff dev`: one process for local work — a private redis-server unless REDIS_URL (or
 * --redis-url) is given, the gateway with its HTTP API and console, a worker for every agent; the
 * network module is loaded again whenever it or a module beside it changes, and Ctrl-C stops everything.
 */
export async function devCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(raw);
  const logger = createLogger('dev');
  const signals = closeOnSignals(logger);
  const file = resolve(process.cwd(), flags.network);
  const drainTimeoutMs = flags.drainTimeout ?? DEV_DRAIN_TIMEOUT_MS;
  // A network that does not load stops here, before a redis-server is started for it.
  const first = await loadNetwork(flags.network, { fresh: true });
  const givenUrl = flags.redisUrl ?? process.env.REDIS_URL;
  const privateRedis: PrivateRedis | undefined = givenUrl ? undefined : await startPrivateRedis();
  const redis = { url: givenUrl ?? privateRedis!.url, ...(flags.prefix ? { prefix: flags.prefix } : {}) };
  const host = flags.httpHost ?? '127.0.0.1';
  let runtime: DevRuntime;
  try {
    runtime = await startDevRuntime({ network: first, redis, port: flags.httpPort ?? 8080, host, logger, drainTimeoutMs });
  } catch (error) {
    await privateRedis?.stop();
    throw error;
  }
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${runtime.port}`;
  const say = (text: string) => process.stdout.write(`handoff dev: ${text}\n`);
  say(
    `${describeRunning(runtime.network, base)}\n  redis    ${redis.url}${privateRedis ? ' (private: stopped on exit)' : ''}\n` +
      `  watching ${flags.network} and the modules beside it: saving reloads the network; Ctrl-C stops everything`,
  );

  /** Loads the changed module; when it is valid, stops this generation and starts the next on the same port. */
  const reload = async () => {
    let network: NetworkDefinition;
    try {
      network = await loadNetwork(flags.network, { fresh: true });
    } catch (error) {
      say(`${flags.network} did not load, the previous network keeps running: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    await runtime.close();
    try {
      runtime = await startDevRuntime({ network, redis, port: runtime.port, host, logger, drainTimeoutMs });
    } catch (error) {
      say(`the reloaded network did not start (${error instanceof Error ? error.message : String(error)}); starting the previous one again`);
      runtime = await startDevRuntime({ network: runtime.network, redis, port: runtime.port, host, logger, drainTimeoutMs });
      return;
    }
    say(`reloaded ${describeRunning(network, base)}`);
  };
  let reloads: Promise<void> = Promise.resolve();
  const watcher = watchNetworkFile(file, () => {
    reloads = reloads.then(reload).catch((error: unknown) => logger.error({ err: error }, 'reload failed'));
  });
  signals.attach(
    {
      async close() {
        watcher.close();
        await reloads;
        await runtime.close();
        await privateRedis?.stop();
      },
    },
    drainTimeoutMs + SHUTDOWN_MARGIN_MS,
  );
}
