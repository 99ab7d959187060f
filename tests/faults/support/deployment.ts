import { Redis } from 'ioredis';
import type { ManagedProcess } from '@handoff/testing';
import { startHandoff } from '../../support/processes.js';
import { openLane } from '../../support/queues.js';

/** The relay network module the processes load. */
export const RELAY_MODULE = 'tests/faults/networks/relay.ts';

/** Lock and stall settings small enough for faults to be recovered within seconds in a test. */
export const FAST_RECOVERY = ['--lock-duration', '1500', '--stalled-interval', '500'];

/** A gateway and worker processes of the relay network, with what it takes to hurt them. */
export class Deployment {
  readonly workers: ManagedProcess[] = [];
  gateway!: ManagedProcess;

  constructor(
    readonly env: Record<string, string>,
    private readonly workerArgs: string[],
    private readonly gatewayArgs: string[],
  ) {}

  /** Starts the gateway and `workers` worker processes. */
  async start(workers: number): Promise<void> {
    [this.gateway] = await Promise.all([this.startGateway(), ...Array.from({ length: workers }, () => this.addWorker())]);
  }

  /** Starts another gateway process (after the last one died). */
  async startGateway(): Promise<ManagedProcess> {
    this.gateway = await startHandoff('gateway', ['gateway', '--network', RELAY_MODULE, ...this.gatewayArgs], this.env);
    return this.gateway;
  }

  /** Starts one more worker process serving every agent. */
  async addWorker(): Promise<ManagedProcess> {
    const worker = await startHandoff(`worker ${this.workers.length + 1}`, ['worker', '--network', RELAY_MODULE, ...this.workerArgs], this.env);
    this.workers.push(worker);
    return worker;
  }

  /** The worker id a worker process logged when it became ready. */
  static workerId(process: ManagedProcess): string | undefined {
    const line = process.lines.find((l) => l.includes('"msg":"ready"'));
    return line ? (JSON.parse(line) as { workerId?: string }).workerId : undefined;
  }

  /** The running worker process that holds the hop of `agent` for `conversationId` (its lease names it). */
  async workerRunning(redisUrl: string, agent: string, conversationId: string): Promise<ManagedProcess | undefined> {
    const redis = new Redis(redisUrl);
    const lane = openLane(agent, redis, this.env.HANDOFF_PREFIX!);
    try {
      for (const id of await lane.activeIds()) {
        const payload = await lane.payload(id);
        if (payload === null || (JSON.parse(payload) as { conversationId?: string }).conversationId !== conversationId) continue;
        const owner = await lane.holder(id);
        return this.workers.find((w) => w.running && Deployment.workerId(w) === owner);
      }
      return undefined;
    } finally {
      redis.disconnect();
    }
  }

  /** Stops everything that still runs. */
  async stop(): Promise<void> {
    await Promise.all([this.gateway, ...this.workers].filter((p) => p?.running).map((p) => p.stop(3_000)));
  }
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
