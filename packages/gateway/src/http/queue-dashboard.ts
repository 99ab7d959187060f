import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { NetworkDefinition } from '@handoff/core';
import type { QueueSet } from '@handoff/redis';

/** Where the queue dashboard is mounted on the gateway. */
export const QUEUE_DASHBOARD_PATH = '/queues';

/**
 * Bull Board over the network's BullMQ queues — the coordinator queue partitions and the
 * dead-letter queue — so operators can look at waiting, active, failed and delayed jobs, and retry
 * or remove them, with a dashboard they may already know. Agents' hops are not BullMQ jobs (see
 * `HopLane`): their counts are on `GET /v1/agents` and the console.
 */
export function queueDashboardRoutes(network: NetworkDefinition, queues: QueueSet, coordinatorPartitions: number): Hono {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  const all = [...Array.from({ length: coordinatorPartitions }, (_, p) => queues.coordinatorPartition(p)), queues.deadLetter];
  createBullBoard({
    queues: all.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: `Handoff · ${network.name}` } },
  });
  return adapter.registerPlugin();
}
