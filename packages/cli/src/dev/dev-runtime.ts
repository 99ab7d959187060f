import type { NetworkDefinition } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import type { Logger } from 'pino';

/** What one generation of `handoff dev` runs: the gateway (with its HTTP API and console) and a worker for every agent. */
export interface DevRuntime {
  readonly network: NetworkDefinition;
  /** The HTTP port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/** Options of {@link startDevRuntime}. */
export interface DevRuntimeOptions {
  network: NetworkDefinition;
  redis: { url: string; prefix?: string };
  /** Port of the HTTP API and console (0: a free one). */
  port: number;
  host: string;
  logger: Logger;
  /** How long running turns may finish when it stops (a reload or Ctrl-C). */
  drainTimeoutMs: number;
}

/**
 * Starts the gateway (registering the network; HTTP API and console on `host:port`, without
 * authentication: local use) and one worker group serving every agent, and waits until both are
 * ready.
 */
export async function startDevRuntime(options: DevRuntimeOptions): Promise<DevRuntime> {
  const { network, redis, logger } = options;
  let gateway: Gateway | undefined;
  let workers: WorkerGroup | undefined;
  try {
    gateway = await startGateway({ network, redis, logger, drainTimeoutMs: options.drainTimeoutMs, http: { port: options.port, host: options.host, auth: false } });
    workers = await startWorkers({ network, redis, logger, drainTimeoutMs: options.drainTimeoutMs });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
  } catch (error) {
    await Promise.allSettled([workers?.close(), gateway?.close()]);
    throw error;
  }
  const started = { gateway, workers };
  return {
    network,
    port: started.gateway.http!.port,
    async close() {
      await started.workers.close();
      await started.gateway.close();
    },
  };
}
