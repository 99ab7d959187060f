/**
 * Names of queues and Redis keys, in one place, laid out to spread over every shard of a Redis
 * Cluster while each atomic step stays in one slot:
 * - every key of one conversation carries its hash tag (`{conversationId}`): the apply script and
 *   the other multi-key steps touch one slot;
 * - every BullMQ queue has a prefix of its own with its name as hash tag (see {@link queuePrefix}):
 *   one slot per queue, as BullMQ needs on a cluster, and different queues on different shards;
 * - the coordinator queue is partitioned by conversation (see {@link coordinatorQueueName});
 * - global keys (registration, heartbeats, deadlines, the in-flight index, the pending-archive
 *   index, router state, the console's index) carry no tag: each is in a slot of its own, and none is in a script with
 *   another key.
 * The deployment's prefix itself must not be hash-tagged: a tag there would put every key in one
 * slot (it still works, on one shard).
 * @module
 */

/** The base name of the queues that carry commands and turn results to the coordinator (one per partition). */
export const COORDINATOR_QUEUE = 'coordinator';

/**
 * The coordinator queue of one partition, `coordinator.<p>`. A conversation's commands and turn
 * results always go to the partition of its id ({@link coordinatorPartitionOf}), so they share a
 * queue; every gateway consumes every partition.
 */
export function coordinatorQueueName(partition: number): string {
  return `${COORDINATOR_QUEUE}.${partition}`;
}

/** A deterministic 32-bit hash of a string (FNV-1a): the same text gives the same number in every process. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The partition (0 … partitions − 1) of a conversation's coordinator queue: {@link fnv1a} of its id. */
export function coordinatorPartitionOf(conversationId: string, partitions: number): number {
  return partitions > 1 ? fnv1a(conversationId) % partitions : 0;
}

/** The partition a coordinator queue name stands for, or undefined for another queue. */
export function partitionOfQueueName(queue: string): number | undefined {
  const match = /^coordinator\.(\d+)$/.exec(queue);
  return match ? Number(match[1]) : undefined;
}

/**
 * The BullMQ prefix of one queue: the deployment's prefix and the queue's name as hash tag, e.g.
 * `handoff:{agent.Billing}` — BullMQ's documented way to keep one queue's keys in one Redis Cluster
 * slot while different queues spread over the shards. Its wait list is
 * `handoff:{agent.Billing}:agent.Billing:wait`.
 */
export function queuePrefix(prefix: string, queue: string): string {
  return `${prefix}:{${queue}}`;
}

/** The queue where jobs that could not be processed are kept for inspection and replay. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

/** The BullMQ queue of one agent. */
export function agentQueueName(agent: string): string {
  return `agent.${agent}`;
}

/** The agent whose queue `queue` is (the inverse of {@link agentQueueName}), or undefined for another queue. */
export function agentOfQueueName(queue: string): string | undefined {
  const prefix = agentQueueName('');
  return queue.startsWith(prefix) && queue.length > prefix.length ? queue.slice(prefix.length) : undefined;
}

/** The deterministic id of hop `seq` of a conversation; also its BullMQ job id. */
export function hopId(conversationId: string, seq: number): string {
  return `${conversationId}.h${seq}`;
}

/**
 * The BullMQ job id of a hop on its agent's queue: the hop id, and the conversation's incarnation
 * (so a reused conversation id never collides with the old conversation's kept jobs).
 */
export function hopJobId(hop: string, epoch: string | undefined): string {
  return epoch ? `${hop}.${epoch}` : hop;
}

/**
 * The hop a hop job's id names ({@link hopJobId}: `<conversation>.h<seq>` or
 * `<conversation>.h<seq>.<epoch>`), or undefined for an id of another shape. What a worker knows
 * of a job whose payload is unreadable.
 */
export function hopOfJobId(jobId: string | undefined): { conversationId: string; hopId: string; seq: number; epoch?: string } | undefined {
  const match = jobId === undefined ? null : /^([A-Za-z0-9_-]{1,100})\.h([1-9]\d{0,8})(?:\.([a-z0-9]{1,40}))?$/.exec(jobId);
  if (!match || /^\d+$/.test(match[1]!)) return undefined;
  const [, conversationId, seq, epoch] = match as unknown as [string, string, string, string | undefined];
  return { conversationId, hopId: hopId(conversationId, Number(seq)), seq: Number(seq), ...(epoch === undefined ? {} : { epoch }) };
}

/**
 * The BullMQ job id of a command on the coordinator queue (start, user message, approval,
 * cancel): one per call, from its operation id, so no two calls share one and none is dropped as
 * a duplicate of another.
 */
export function commandJobId(conversationId: string, kind: string, operationId: string): string {
  return `${conversationId}.${kind}.${operationId}`;
}

/** The BullMQ job id of the turn result of a hop (one per hop and incarnation, whatever the attempt). */
export function turnResultJobId(hop: string, epoch?: string): string {
  return `${hopJobId(hop, epoch)}.turn`;
}

/**
 * The job id (and operation id) with which a child conversation tells its parent where it stands:
 * one per child incarnation and record version, so each new state is reported once.
 */
export function childReportJobId(childId: string, epoch: string, version: number): string {
  return `${childId}.${epoch || 'e'}.report.v${version}`;
}

/** Redis keys of one deployment, under its key prefix. */
export interface KeyLayout {
  /** The prefix itself (BullMQ's `prefix` option uses it too). */
  readonly prefix: string;
  /** Hash describing the registered network (name, agents). */
  readonly network: string;
  /** Hash: the conversation record. */
  conversation(conversationId: string): string;
  /** List: the conversation's history, one JSON message per entry. */
  history(conversationId: string): string;
  /** Stream: the conversation's event log. */
  events(conversationId: string): string;
  /** List: gets an entry when the conversation ends (what result waiters block on). */
  done(conversationId: string): string;
  /** List: the operation ids of the latest commands applied to the conversation (newest first, capped). */
  ops(conversationId: string): string;
  /** String: set by a client while the conversation's start command is queued (the operation id); the start deletes it. */
  starting(conversationId: string): string;
  /** List: the coordinator's answer to one command (what the command's caller waits on); expires soon. */
  reply(conversationId: string, operationId: string): string;
  /** Sorted set: conversations in flight (running, or waiting for a child), scored by when the reconciler should look at them next (ms). */
  readonly inFlight: string;
  /**
   * Sorted set: starts admitted for an agent but not yet published to its queue, scored by
   * admission time (ms). In the agent queue's slot: the admission script reads both.
   */
  admission(agent: string): string;
  /** Sorted set: worker ids of an agent, scored by their last heartbeat (ms). */
  workers(agent: string): string;
  /** Sorted set: conversations with a deadline, scored by it (ms). */
  readonly deadlines: string;
  /** Pub/sub channel on which cancelled conversations are announced to workers. */
  readonly cancelChannel: string;
  /** A router's shared state (round-robin counters, classification cache). */
  router(name: string, part: string): string;
  /**
   * Sorted set: finished conversations waiting to be archived, scored by when to try next (ms).
   * A global key in a slot of its own, written only when an archive is configured.
   */
  readonly archivePending: string;
  /**
   * String: the compacted event log of a finished conversation, one `<event id> <JSON>` line per
   * event. Written when the conversation ends, in place of the event stream (see `EventLog`).
   */
  finishedEvents(conversationId: string): string;
  /**
   * String: the turn result a worker sent for the conversation's pending hop, kept until the step
   * that applies it (which deletes it). The durable copy of what the turn inbox carries: the
   * reconciler applies it when the inbox entry was lost with a gateway.
   */
  turnResult(conversationId: string): string;
  /**
   * Hash: the turn journal of the conversation's pending hop — each completed model response and
   * tool result of the turn so far, so that a re-run replays them. Holds one hop's turn at a time
   * (a write for another hop or agent starts it afresh); deleted when the turn result is stored.
   */
  turnJournal(conversationId: string): string;
  /**
   * String: the claim of one tool call of the pending hop's turn (`field` names the call), set
   * while a worker runs it, so that a racing run of the same hop waits for its result instead of
   * running it too. Expires after the tool's timeout and a margin.
   */
  turnJournalClaim(conversationId: string, field: string): string;
  /**
   * List: the turn inbox of one coordinator partition — turn results, newest first, that the
   * gateways pop and apply. In the partition queue's slot.
   */
  turnInbox(partition: number): string;
}

/** Builds the key layout for a prefix. */
export function keyLayout(prefix: string): KeyLayout {
  return {
    prefix,
    network: `${prefix}:network`,
    conversation: (id) => `${prefix}:conv:{${id}}:record`,
    history: (id) => `${prefix}:conv:{${id}}:history`,
    events: (id) => `${prefix}:conv:{${id}}:events`,
    done: (id) => `${prefix}:conv:{${id}}:done`,
    ops: (id) => `${prefix}:conv:{${id}}:ops`,
    starting: (id) => `${prefix}:conv:{${id}}:starting`,
    reply: (id, op) => `${prefix}:conv:{${id}}:reply:${op}`,
    inFlight: `${prefix}:inflight`,
    archivePending: `${prefix}:archive:pending`,
    admission: (agent) => `${queuePrefix(prefix, agentQueueName(agent))}:admission`,
    workers: (agent) => `${prefix}:workers:${agent}`,
    deadlines: `${prefix}:deadlines`,
    cancelChannel: `${prefix}:cancel`,
    router: (name, part) => `${prefix}:router:${name}:${part}`,
    finishedEvents: (id) => `${prefix}:conv:{${id}}:eventlog`,
    turnResult: (id) => `${prefix}:conv:{${id}}:turn`,
    turnJournal: (id) => `${prefix}:conv:{${id}}:journal`,
    turnJournalClaim: (id, field) => `${prefix}:conv:{${id}}:claim:${field}`,
    turnInbox: (partition) => `${queuePrefix(prefix, coordinatorQueueName(partition))}:turns`,
  };
}
