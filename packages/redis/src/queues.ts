import { createRequire } from 'node:module';
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from './connection.js';
import { DEAD_LETTER_QUEUE, DEFAULT_COORDINATOR_PARTITIONS, HOP_JOB_ATTEMPTS, agentOfQueueName, coordinatorPartitionOf, coordinatorQueueName, partitionOfQueueName, queuePrefix, type ErrorJson } from '@handoff/core';
import { CoordinatorPartitions } from './network-registry.js';
import { HopLane } from './hop-lane.js';

const requireModule = createRequire(import.meta.url);

/**
 * BullMQ, loaded on first use (its CommonJS build, the one `import 'bullmq'` gives too, so there is
 * one copy). A worker process needs no BullMQ queue until it dead-letters a hop, and so does not
 * carry BullMQ's ~23 MB until then.
 */
function bullmq(): typeof import('bullmq') {
  return requireModule('bullmq') as typeof import('bullmq');
}

/**
 * Job options of every coordinator job (commands, child reports). Redelivery safety does not rest
 * on retention — the coordinator's sequence check makes a duplicate harmless — so only the last
 * 1,000 completed jobs per queue are kept, for inspection; memory stays bounded whatever the rate.
 * Failed jobs are kept a week.
 */
export const HOP_JOB_OPTIONS: JobsOptions = Object.freeze({
  removeOnComplete: { count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
  attempts: HOP_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
});

/**
 * The producers one process needs: the coordinator queue partitions, each agent's hop lane
 * ({@link HopLane}, opened on first use) and the dead-letter queue, all over one shared command
 * connection. Every queue and lane has a prefix of its own ({@link queuePrefix}), so on a Redis
 * Cluster each lives in its own slot.
 */
export class QueueSet {
  /** Every queue opened, by name (opened on first use). */
  private readonly queues = new Map<string, Queue>();
  /** Every hop lane opened, by agent. */
  private readonly lanes = new Map<string, HopLane>();

  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
    /** How many coordinator partitions there are (what the gateway registered). @defaultValue the default count, fixed */
    readonly partitions: CoordinatorPartitions = new CoordinatorPartitions(DEFAULT_COORDINATOR_PARTITIONS),
  ) {}

  /** The dead-letter queue. */
  get deadLetter(): Queue {
    return this.open(DEAD_LETTER_QUEUE);
  }

  /**
   * The queue of that name over the shared connection, opened once. Like the connection (see
   * `quietErrors`), it reports Redis errors through its commands only: an unlistened `error` event
   * is printed by BullMQ.
   */
  private open(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new (bullmq().Queue)(name, { connection: this.connection, prefix: queuePrefix(this.prefix, name) });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The coordinator queue of a conversation: the partition of its id. */
  async coordinatorFor(conversationId: string): Promise<Queue> {
    return this.coordinatorPartition(coordinatorPartitionOf(conversationId, await this.partitions.count()));
  }

  /** The coordinator queue of one partition. */
  coordinatorPartition(partition: number): Queue {
    return this.open(coordinatorQueueName(partition));
  }

  /** Every coordinator partition's queue (at least `atLeast` of them: a count changed since may leave jobs in more). */
  async coordinatorAll(atLeast = 0): Promise<Queue[]> {
    const count = Math.max(await this.partitions.count(), atLeast);
    return Array.from({ length: count }, (_, p) => this.coordinatorPartition(p));
  }

  /** The hop lane of an agent. */
  lane(agent: string): HopLane {
    let lane = this.lanes.get(agent);
    if (!lane) this.lanes.set(agent, (lane = new HopLane(this.connection, this.prefix, agent)));
    return lane;
  }

  /** A coordinator partition's queue or an agent's hop lane by its queue name, or undefined for another name. */
  byName(name: string): Queue | HopLane | undefined {
    const partition = partitionOfQueueName(name);
    if (partition !== undefined) return this.coordinatorPartition(partition);
    const agent = agentOfQueueName(name);
    return agent === undefined ? undefined : this.lane(agent);
  }

  /** Closes every queue (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** A job that could not be processed, as kept in the dead-letter queue. */
export interface DeadLetter {
  /** The queue the job came from. */
  sourceQueue: string;
  /** Its job id there. */
  jobId: string | undefined;
  /** The conversation, when it could be read from the job. */
  conversationId: string | undefined;
  /** Why it could not be processed. */
  error: ErrorJson;
  /** The job's data, untouched, for inspection and replay. */
  payload: unknown;
  /** Unix ms. */
  deadAt: number;
}

/** Puts a job into the dead-letter queue (idempotent per source queue and job id). */
export async function addDeadLetter(queues: QueueSet, letter: Omit<DeadLetter, 'deadAt'>): Promise<void> {
  const data: DeadLetter = { ...letter, deadAt: Date.now() };
  await queues.deadLetter.add('dead-letter', data, {
    ...(letter.jobId === undefined ? {} : { jobId: `${letter.sourceQueue}.${letter.jobId}`.replaceAll(':', '_') }),
    removeOnComplete: false,
    removeOnFail: false,
  });
}

/** Reads the conversation id out of a job payload that may not be valid, if it is there. */
export function looseConversationId(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const id = (payload as { conversationId?: unknown }).conversationId;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
}
