import { Queue } from 'bullmq';
import { DEFAULT_COORDINATOR_PARTITIONS, agentQueueName, coordinatorPartitionOf, coordinatorQueueName, hopId, hopJobId, queuePrefix } from '@handoff/core';
import type { RedisClient } from '@handoff/redis';

/** A producer on one of a deployment's queues, under the queue's own prefix (as the runtime opens it). */
export function openQueue(name: string, connection: RedisClient, prefix: string): Queue {
  return new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
}

/** The name of the coordinator queue partition that carries a conversation's jobs (the default partition count). */
export function coordinatorQueueNameOf(conversationId: string, partitions = DEFAULT_COORDINATOR_PARTITIONS): string {
  return coordinatorQueueName(coordinatorPartitionOf(conversationId, partitions));
}

/** The coordinator queue partition of a conversation (the default partition count). */
export function coordinatorQueueOf(conversationId: string, connection: RedisClient, prefix: string): Queue {
  return openQueue(coordinatorQueueNameOf(conversationId), connection, prefix);
}

/** Every coordinator queue partition (the default partition count). */
export function allCoordinatorQueues(connection: RedisClient, prefix: string, partitions = DEFAULT_COORDINATOR_PARTITIONS): Queue[] {
  return Array.from({ length: partitions }, (_, p) => openQueue(coordinatorQueueName(p), connection, prefix));
}

/** Jobs counted over every coordinator partition. */
export async function coordinatorJobCount(connection: RedisClient, prefix: string, ...types: Parameters<Queue['getJobCountByTypes']>): Promise<number> {
  const queues = allCoordinatorQueues(connection, prefix);
  try {
    const counts = await Promise.all(queues.map((queue) => queue.getJobCountByTypes(...types)));
    return counts.reduce((sum, n) => sum + n, 0);
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
  }
}

/** The hop job of a conversation's hop `seq` on `agent`'s queue (finished jobs are kept for inspection), with the worker that ran it (`processedBy`). */
export async function hopJobOf(connection: RedisClient, prefix: string, agent: string, conversationId: string, seq: number, epoch: string | undefined): Promise<{ data: { agent?: string }; processedBy?: string | undefined } | undefined> {
  const queue = openQueue(agentQueueName(agent), connection, prefix);
  try {
    return await queue.getJob(hopJobId(hopId(conversationId, seq), epoch));
  } finally {
    await queue.close();
  }
}
