import { Queue } from 'bullmq';
import { DEFAULT_COORDINATOR_PARTITIONS, coordinatorPartitionOf, coordinatorQueueName, hopId, hopJobId, keyLayout, queuePrefix } from '@handoff/core';
import { EventLog, HopLane, type HopState, type RedisClient } from '@handoff/redis';

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

/** An agent's hop lane, as the runtime opens it. */
export function openLane(agent: string, connection: RedisClient, prefix: string): HopLane {
  return new HopLane(connection, prefix, agent);
}

/** The payloads of the hops waiting in a lane, parsed, next to be taken first. */
export async function waitingPayloads(lane: HopLane): Promise<{ conversationId?: string }[]> {
  const payloads = await Promise.all((await lane.waitingIds()).map((id) => lane.payload(id)));
  return payloads.flatMap((payload) => (payload === null ? [] : [JSON.parse(payload) as { conversationId?: string }]));
}

/** The state of a conversation's hop `seq` in `agent`'s lane. */
export function hopStateOf(connection: RedisClient, prefix: string, agent: string, conversationId: string, seq: number, epoch: string | undefined): Promise<HopState> {
  return openLane(agent, connection, prefix).state(hopJobId(hopId(conversationId, seq), epoch));
}

/** The workers that started runs of a conversation's hop `seq`, in order (from its `agent.started` events). */
export async function hopRunsOf(connection: RedisClient, prefix: string, conversationId: string, seq: number): Promise<{ agent: string; workerId: string | undefined; attempt: number }[]> {
  const events = await new EventLog(connection, keyLayout(prefix)).readAll(conversationId);
  return events.flatMap((event) => (event.type === 'agent.started' && event.seq === seq ? [{ agent: event.agent, workerId: event.workerId, attempt: event.attempt }] : []));
}
