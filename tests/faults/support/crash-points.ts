import pino from 'pino';
import { Redis } from 'ioredis';
import {
  DEFAULT_COORDINATOR_PARTITIONS,
  SCHEMA_VERSION,
  agentOfQueueName,
  agentQueueName,
  commandJobId,
  defineAgent,
  defineNetwork,
  hopId,
  hopJobId,
  keyLayout,
  newOperationId,
  type CoordinatorJob,
  type ConversationRecord,
  type KeyLayout,
  type NetworkDefinition,
  type StoredEvent,
  type TurnResult,
} from '@handoff/core';
import { ConversationStore, EventLog, QueueSet, createRedisConnection, registerNetwork, type RedisClient } from '@handoff/redis';
import { Coordinator, HealthView, Reconciler, Routers } from '@handoff/gateway';
import type { RedisFaultMode, RedisFaultProxy } from '@handoff/testing';
import { openLane, openQueue } from '../../support/queues.js';

/** The network the crash-point runs use: A hands off to B, asks for approvals, and starts nested chats with B. */
export const CRASH_NETWORK: NetworkDefinition = defineNetwork({
  name: 'crash-points',
  agents: [
    defineAgent({ name: 'A', instructions: 'You are A.', handoffs: ['B'] }),
    defineAgent({ name: 'B', instructions: 'You are B.', handoffs: ['A'] }),
  ],
});

/** A coordinator with everything it uses on one connection (what one gateway process holds). */
export interface CoordinatorProcess {
  coordinator: Coordinator;
  connection: RedisClient;
  store: ConversationStore;
  close(): void;
}

/** Starts a coordinator over `url` (direct, or through the fault proxy). */
export async function coordinatorProcess(url: string, keys: KeyLayout, network: NetworkDefinition = CRASH_NETWORK): Promise<CoordinatorProcess> {
  // Commands fail fast once the link is cut for good, as in a process whose Redis went away.
  const connection = createRedisConnection(url, 'command');
  await (connection as Redis).ping();
  const store = new ConversationStore(connection, keys);
  const queues = new QueueSet(connection, keys.prefix);
  const health = new HealthView(connection, keys, 0);
  const coordinator = new Coordinator({
    network,
    store,
    events: new EventLog(connection, keys),
    queues,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    redis: connection,
    keys,
    health,
    routers: new Routers(network, connection, keys, queues, health),
  });
  return {
    coordinator,
    connection,
    store,
    close() {
      void queues.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

/** One command kind's path, from a fresh conversation: how to get there, the command, and what must hold after. */
export interface CrashScenario {
  name: string;
  /** Brings a fresh conversation to the state the command needs; returns the command's job payload and id. */
  prepare(h: CrashHarness, id: string): Promise<{ payload: CoordinatorJob; jobId: string }>;
  /** What must hold once the command was applied (after a crash and its recovery). Returns the problems found. */
  verify(h: CrashHarness, id: string, payload: CoordinatorJob): Promise<string[]>;
  /**
   * The command's caller left a durable copy the reconciler applies (a start's mark): when its
   * delivery is lost, it is not settled as failed — the reconciler alone must apply it.
   */
  storedCopy?: boolean;
}

/** What one crash-point run did. */
export interface CrashRun {
  scenario: string;
  mode: RedisFaultMode;
  k: number;
  /** The fault fired (k was within the command's path). */
  fired: boolean;
  /** The Redis command after which it fired. */
  at: string | undefined;
  /** The command's first delivery threw (so BullMQ delivers it again). */
  threw: boolean;
  problems: string[];
}

/** The real Redis, a healthy coordinator for setting up and recovering, and the invariants every run must keep. */
export class CrashHarness {
  readonly keys: KeyLayout;
  readonly redis: Redis;
  private healthy!: CoordinatorProcess;

  constructor(
    readonly redisUrl: string,
    readonly prefix: string,
    readonly proxy: RedisFaultProxy,
  ) {
    this.keys = keyLayout(prefix);
    this.redis = new Redis(redisUrl);
  }

  async start(): Promise<void> {
    await registerNetwork(this.redis, this.keys, CRASH_NETWORK);
    // Live workers for both agents: nothing is rerouted, a queued hop is simply waiting.
    await this.beat();
    this.healthy = await coordinatorProcess(this.redisUrl, this.keys);
  }

  /** Fresh heartbeats for both agents' workers. */
  async beat(): Promise<void> {
    for (const agent of CRASH_NETWORK.agentNames) await this.redis.zadd(this.keys.workers(agent), Date.now() + 3_600_000, 'crash-test-worker');
  }

  async close(): Promise<void> {
    this.healthy.close();
    this.redis.disconnect();
  }

  /** Delivers a job to the healthy coordinator (a fresh instance each time: no memory survives a crash). */
  async deliver(payload: unknown, jobId?: string): Promise<string> {
    const process = await coordinatorProcess(this.redisUrl, this.keys);
    try {
      return await process.coordinator.handle(payload, jobId);
    } finally {
      process.close();
    }
  }

  async record(id: string): Promise<ConversationRecord | null> {
    return this.healthy.store.read(id);
  }

  async events(id: string): Promise<StoredEvent[]> {
    return new EventLog(this.redis, this.keys).read(id);
  }

  /** The state of a job on a coordinator queue, or of a hop in an agent's lane (`unknown` when there is none). */
  async jobState(queueName: string, jobId: string): Promise<string> {
    const agent = agentOfQueueName(queueName);
    if (agent !== undefined) return openLane(agent, this.redis, this.prefix).state(jobId);
    const queue = openQueue(queueName, this.redis, this.prefix);
    try {
      return await queue.getJobState(jobId);
    } finally {
      await queue.close();
    }
  }

  async jobData(queueName: string, jobId: string): Promise<unknown> {
    const agent = agentOfQueueName(queueName);
    if (agent !== undefined) {
      const payload = await openLane(agent, this.redis, this.prefix).payload(jobId);
      return payload === null ? undefined : JSON.parse(payload);
    }
    const queue = openQueue(queueName, this.redis, this.prefix);
    try {
      return (await queue.getJob(jobId))?.data;
    } finally {
      await queue.close();
    }
  }

  /**
   * What a gateway does with a partition's inbox (every partition's, when none is named): pops every
   * entry and applies it. @returns how many
   */
  async drainInbox(partition?: number): Promise<number> {
    const partitions = partition === undefined ? Array.from({ length: DEFAULT_COORDINATOR_PARTITIONS }, (_, p) => p) : [partition];
    let applied = 0;
    for (const key of partitions.map((p) => this.keys.turnInbox(p))) {
      for (let raw = await this.redis.rpop(key); raw !== null; raw = await this.redis.rpop(key)) {
        await this.deliver(JSON.parse(raw));
        applied++;
      }
    }
    return applied;
  }

  /** The answer the command's caller got, if any. */
  async reply(id: string, operationId: string): Promise<{ outcome: string; error?: { code: string } } | null> {
    const raw = await this.redis.lindex(this.keys.reply(id, operationId), 0);
    return raw === null ? null : JSON.parse(raw);
  }

  /** One reconciler round as if its bound had passed: what a stalled conversation gets from a live gateway. */
  async reconcile(): Promise<void> {
    const process = await coordinatorProcess(this.redisUrl, this.keys);
    try {
      await this.reconcilerOf(process).runOnce(Date.now() + 3_600_000);
    } finally {
      process.close();
    }
  }

  /** The reconciler a gateway runs beside `process`'s coordinator. */
  reconcilerOf(process: CoordinatorProcess): Reconciler {
    return new Reconciler({
      network: CRASH_NETWORK,
      store: process.store,
      events: new EventLog(process.connection, this.keys),
      queues: new QueueSet(process.connection, this.prefix),
      redis: process.connection,
      keys: this.keys,
      health: new HealthView(process.connection, this.keys, 0),
      coordinator: process.coordinator,
      logger: pino({ level: 'silent' }),
    });
  }

  /**
   * The invariants every conversation keeps whatever happened: it is ended, or visibly waiting
   * (for its user, with what it waits for; for a child that exists), or running with its pending
   * hop on its agent's queue; its history has as many entries as its record says, none twice;
   * no hop was applied twice.
   */
  async invariants(id: string): Promise<string[]> {
    const problems: string[] = [];
    const record = await this.record(id);
    if (!record) return ['no record'];
    if (record.status === 'running') {
      const next = record.next;
      if (!next) problems.push('running without a pending hop');
      else {
        const state = await this.jobState(agentQueueName(next.agent), hopJobId(next.hopId, record.epoch));
        if (state !== 'waiting' && state !== 'active' && state !== 'retrying') problems.push(`running, but its pending hop ${next.hopId} is ${state} on ${next.agent}'s queue`);
      }
    } else if (record.status === 'awaiting_user') {
      if (!record.waiting) problems.push('awaiting_user without saying what for');
    } else if (record.status === 'awaiting_child') {
      if (record.waiting?.kind !== 'child') problems.push('awaiting_child without a child');
      else if (!(await this.record(record.waiting.childId))) problems.push(`awaiting child ${record.waiting.childId}, which does not exist`);
    }
    const history = await this.redis.lrange(this.keys.history(id), 0, -1);
    if (history.length !== record.historyLength) problems.push(`history has ${history.length} entries, the record says ${record.historyLength}`);
    if (new Set(history).size !== history.length) problems.push('a history entry appears twice');
    const events = await this.events(id);
    const completedHops = events.filter((e) => e.type === 'agent.completed').map((e) => (e.type === 'agent.completed' ? e.hopId : ''));
    if (new Set(completedHops).size !== completedHops.length) problems.push('a hop was applied twice');
    const terminal = events.filter((e) => e.type === 'conversation.completed' || e.type === 'conversation.failed' || e.type === 'conversation.cancelled');
    if (terminal.length > 1 && record.status !== 'completed') problems.push(`${terminal.length} terminal events`);
    return problems;
  }

  /**
   * Runs one command under a fault after its k-th Redis command, then what recovery a deployment
   * gives it (BullMQ delivers it again when the first delivery died or threw; the reconciler's
   * round once its bound passed), and checks the scenario and the invariants.
   */
  async run(scenario: CrashScenario, mode: RedisFaultMode, k: number, options: { redeliver?: boolean } = {}): Promise<CrashRun> {
    const id = `cp_${scenario.name}_${mode}_${k}_${newOperationId().slice(3, 11)}`;
    const { payload, jobId } = await scenario.prepare(this, id);
    const faulty = await coordinatorProcess(this.proxy.url, this.keys);
    const { fired: didFire, at, threw } = await underFault(this.proxy, k, mode, () => faulty.coordinator.handle(payload, jobId), () => faulty.close());
    if (!didFire) return { scenario: scenario.name, mode, k, fired: false, at: undefined, threw, problems: [] };
    // Recovery: a job that died or threw is delivered again (a new process takes it); then time passes.
    // Without redelivery (its job failed for good), only the reconciler is left: nothing may stall,
    // though a command that never applied stays unapplied (its caller was not told it applied).
    const redeliver = options.redeliver ?? true;
    if (redeliver && (mode === 'freeze' || threw)) await this.deliver(payload, jobId);
    if (!redeliver && !scenario.storedCopy) await this.settleFailed(payload);
    await this.reconcile();
    const applies = redeliver || scenario.storedCopy === true;
    const problems = applies ? [...(await this.invariants(id)), ...(await scenario.verify(this, id, payload))] : await this.settledInvariants(id, payload);
    return { scenario: scenario.name, mode, k, fired: true, at, threw, problems };
  }

  /** What the failure sweeper does with a job that failed for good. */
  private async settleFailed(payload: CoordinatorJob): Promise<void> {
    const process = await coordinatorProcess(this.redisUrl, this.keys);
    try {
      await process.coordinator.settleFailedJob(payload, { code: 'HOP_FAILED', message: 'the job failed for good (crash test)', retryable: true });
    } finally {
      process.close();
    }
  }

  /**
   * After a job that failed for good was settled: the invariants, or — for a command whose
   * conversation does not exist (yet) — a caller told it was refused, never that it applied.
   */
  private async settledInvariants(id: string, payload: CoordinatorJob): Promise<string[]> {
    if (await this.record(id)) return this.invariants(id);
    const operationId = (payload as { operationId?: string }).operationId;
    const reply = operationId ? await this.reply(id, operationId) : null;
    return payload.kind !== 'start' && reply?.outcome === 'refused' ? [] : [`no record, and the caller was told ${JSON.stringify(reply)}`];
  }
}

/**
 * Runs `act` (one process's Redis work, through `proxy`) with a fault after its k-th Redis command:
 * in `freeze` mode, once the fault fired, the process dies there (`close`); else it runs to its end
 * (10 s at most: longer counts as a throw) and is closed. Says whether the fault fired (k was within
 * the work), after which command, and whether `act` threw.
 */
export async function underFault(proxy: RedisFaultProxy, k: number, mode: RedisFaultMode, act: () => Promise<unknown>, close: () => void): Promise<{ fired: boolean; at: string | undefined; threw: boolean }> {
  proxy.resetCount();
  const fired = proxy.injectAfter(k, mode);
  let threw = false;
  const acting = act().then(
    () => 'done' as const,
    () => {
      threw = true;
      return 'threw' as const;
    },
  );
  const first = await Promise.race([acting, fired.then((ok) => (ok ? ('fired' as const) : ('cleared' as const)))]);
  const at = proxy.commands[k - 1];
  if (mode === 'freeze' && first === 'fired') {
    // The process dies right after command k: nothing more of it reaches Redis.
    await new Promise((resolve) => setTimeout(resolve, 30));
    close();
    await acting;
  } else {
    const outcome = await Promise.race([acting, new Promise<'hung'>((resolve) => setTimeout(resolve, 10_000, 'hung'))]);
    if (outcome === 'hung') threw = true;
    close();
  }
  const didFire = proxy.fired;
  proxy.clearFault();
  return { fired: didFire, at, threw };
}

// ---- building blocks of the scenarios ----

/**
 * A start command for `id`, as the client leaves it before a gateway pops it (`TurnInbox.sendStart`):
 * the conversation in the in-flight index, the command as its starting mark.
 */
export async function startCommand(h: CrashHarness, id: string, text = `hello from ${id}`): Promise<{ payload: CoordinatorJob; jobId: string }> {
  const operationId = newOperationId();
  const payload: CoordinatorJob = { schemaVersion: SCHEMA_VERSION, kind: 'start', conversationId: id, entryAgent: 'A', input: text, context: {}, limits: {}, operationId, createdAt: Date.now() };
  await h.redis.zadd(h.keys.inFlight, 'NX', Date.now() + 10_000, id);
  await h.redis.set(h.keys.starting(id), JSON.stringify(payload), 'EX', 3600);
  return { payload, jobId: commandJobId(id, 'start', operationId) };
}

/** The turn result a worker of `agent` sends for hop `seq`, with `outcome` (unique message texts). */
export function turnResult(record: ConversationRecord, seq: number, agent: string, outcome: TurnResult['outcome'], assistant: TurnResult['newMessages'][number] = { role: 'assistant', content: `${agent} answers hop ${seq} of ${record.conversationId}` }): TurnResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'turn',
    conversationId: record.conversationId,
    hopId: hopId(record.conversationId, seq),
    seq,
    agent,
    newMessages: [assistant],
    outcome,
    usage: { promptTokens: 1, completionTokens: 1 },
    attempt: 1,
    workerId: 'crash-test',
    epoch: record.epoch,
    timing: { queuedAt: 0, startedAt: 1, firstModelCallAt: 2, lastModelReturnAt: 3, modelMs: 1, finishedAt: 4 },
  };
}

/** Starts `id` through the healthy coordinator and returns its record. */
export async function started(h: CrashHarness, id: string): Promise<ConversationRecord> {
  const { payload, jobId } = await startCommand(h, id);
  await h.deliver(payload, jobId);
  return (await h.record(id))!;
}

/** Counts events of a type. */
export async function countEvents(h: CrashHarness, id: string, type: StoredEvent['type']): Promise<number> {
  return (await h.events(id)).filter((e) => e.type === type).length;
}

/** A problem when `actual` is not `expected`. */
export function expectEqual(what: string, actual: unknown, expected: unknown): string[] {
  return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`];
}

/** The command's caller was told it applied. */
export async function expectApplied(h: CrashHarness, id: string, payload: CoordinatorJob): Promise<string[]> {
  const operationId = (payload as { operationId?: string }).operationId;
  if (!operationId) return [];
  const reply = await h.reply(id, operationId);
  return reply?.outcome === 'applied' ? [] : [`the caller was told ${JSON.stringify(reply)}, not applied`];
}

