/**
 * Names of queues and Redis keys, in one place. Every key of one conversation shares a Redis
 * Cluster hash tag (`{conversationId}`), so atomic multi-key steps work on a cluster too.
 * @module
 */

/** The queue that carries start commands and turn results to the coordinator. */
export const COORDINATOR_QUEUE = 'coordinator';

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
  /** Sorted set: starts admitted for an agent but not yet published to its queue, scored by admission time (ms). */
  admission(agent: string): string;
  /** Sorted set: worker ids of an agent, scored by their last heartbeat (ms). */
  workers(agent: string): string;
  /** Sorted set: conversations with a deadline, scored by it (ms). */
  readonly deadlines: string;
  /** Pub/sub channel on which cancelled conversations are announced to workers. */
  readonly cancelChannel: string;
  /** A router's shared state (round-robin counters, classification cache). */
  router(name: string, part: string): string;
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
    admission: (agent) => `${prefix}:admission:${agent}`,
    workers: (agent) => `${prefix}:workers:${agent}`,
    deadlines: `${prefix}:deadlines`,
    cancelChannel: `${prefix}:cancel`,
    router: (name, part) => `${prefix}:router:${name}:${part}`,
  };
}
