import type { Logger } from 'pino';
import {
  DEFAULT_RECONCILE_AFTER_MS,
  DEFAULT_RECONCILE_INTERVAL_MS,
  hopJobId,
  TERMINAL_STATUSES,
  ErrorCode,
  toErrorJson,
  type ConversationRecord,
  type KeyLayout,
  type NetworkDefinition,
} from '@handoff/core';
import { addDeadLetter, readStoredStart, readStoredTurn, type ConversationStore, type EventLog, type QueueSet, type RedisClient } from '@handoff/redis';
import type { HealthView } from '../routing/health.js';
import type { Coordinator } from './coordinator.js';
import { Periodic } from './periodic.js';
import { isInFlight } from './effects.js';
import { enqueueArchive } from './archive-queue.js';

/** A start that could not be applied from its mark is tried each time it is due, until it is this many reconcile periods old. */
export const MAX_STORED_START_TRIES = 6;

/** Options of {@link Reconciler}. */
export interface ReconcilerOptions {
  /** A conversation in flight is looked at after this long without progress. @defaultValue {@link DEFAULT_RECONCILE_AFTER_MS} */
  reconcileAfterMs?: number;
  /** How often to look. @defaultValue {@link DEFAULT_RECONCILE_INTERVAL_MS} */
  intervalMs?: number;
  /** Conversations looked at per round at most. @defaultValue 200 */
  batch?: number;
}

/** What the reconciler needs; the gateway wires it. */
export interface ReconcilerDeps {
  network: NetworkDefinition;
  store: ConversationStore;
  events: EventLog;
  queues: QueueSet;
  redis: RedisClient;
  keys: KeyLayout;
  health: HealthView;
  coordinator: Coordinator;
  logger: Logger;
  /** Told what each repair did (metrics). */
  observer?: ReconcilerObserver;
  /** True when finished conversations are archived: an ended one found in flight is queued for the archive. */
  archiving?: boolean;
}

/** What one repair did, for metrics. */
export type Repair = 'republished' | 'rerouted' | 'resumed' | 'no-live-worker' | 'applied-stored-turn' | 'applied-stored-start';

/** Something that wants to know every repair, e.g. metrics. */
export interface ReconcilerObserver {
  repaired(repair: Repair, agent: string | null): void;
}

/** What one round found and did. */
export interface ReconcileReport {
  /** Conversations looked at. */
  checked: number;
  /** Pending hops published again (they were not in their lane). */
  republished: number;
  /** Queued hops moved to a fallback agent (theirs had no live worker). */
  rerouted: number;
  /** Parked-on-a-child parents whose child was started again or asked to report. */
  resumed: number;
  /** Turn results applied from their stored copy (their inbox entry was lost with a gateway, or never pushed). */
  appliedStored: number;
  /** Starts applied from their starting mark (their inbox entry was lost with a gateway, or never pushed). */
  appliedStarts: number;
}

/**
 * Finds conversations that stopped moving and moves them again — what a crash between an apply
 * and its effects, a publish that failed for good, or a worker that died with a hop queued for it
 * would otherwise leave stalled forever.
 *
 * Every conversation in flight (running, or waiting for a child) is in a sorted set scored by when
 * to look at it next; each step's effects push the score `reconcileAfterMs` ahead, and a finished
 * or parked conversation leaves the set. A round reads only the entries that are due (bounded by
 * `batch`), never all records. For each:
 * - its pending hop is not in its agent's lane (and no worker holds it): published again, under its hop id, with
 *   a `warning` event;
 * - its hop waits on the queue of an agent with no live worker: moved to the first fallback that
 *   has one, like a new hop would be (a `warning` event when there is none);
 * - it waits for a child: the child is started, or its report sent, again (idempotently);
 * - it has ended (the end's effects never ran): with an archive, it is queued for the archiver;
 * - it has no record, but a client's start waits as its starting mark (the start's inbox entry was
 *   lost with a gateway, or never pushed): the start is applied from the mark.
 * Any number of gateways may run it: every repair is idempotent or version-guarded.
 */
export class Reconciler {
  private readonly rounds: Periodic;
  /** Hops already warned about having no live worker (once per hop and process). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions = {},
  ) {
    this.rounds = new Periodic(() => this.runOnce(), options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS, (error) => deps.logger.warn({ err: error }, 'reconcile round failed'));
  }

  private get afterMs(): number {
    return this.options.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS;
  }

  /** Starts looking periodically. */
  start(): void {
    this.rounds.start();
  }

  /** Stops, and waits for a round in progress. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round over the conversations that are due. */
  async runOnce(now = Date.now()): Promise<ReconcileReport> {
    const { redis, keys } = this.deps;
    const report: ReconcileReport = { checked: 0, republished: 0, rerouted: 0, resumed: 0, appliedStored: 0, appliedStarts: 0 };
    const due = await redis.zrangebyscore(keys.inFlight, '-inf', now, 'LIMIT', 0, this.options.batch ?? 200);
    for (const conversationId of due) {
      // Pushed ahead first, so another gateway's round does not take the same one meanwhile.
      await redis.zadd(keys.inFlight, 'XX', now + this.afterMs, conversationId);
      let record = await this.deps.store.read(conversationId);
      if (!record) {
        const start = await this.applyStoredStart(conversationId, now);
        if (start === 'applied') report.appliedStarts++;
        if (start !== 'none') continue;
        // No mark either: unless a gateway applied the start between the two reads (the apply that
        // creates the record deletes the mark in the same step), nothing was accepted.
        record = await this.deps.store.read(conversationId);
      }
      if (!record || !isInFlight(record)) {
        // Ended, and the end's effects may not have run (a crash right after its apply): queue it for the archive first.
        if (record && this.deps.archiving && TERMINAL_STATUSES.has(record.status)) await enqueueArchive(redis, keys, conversationId);
        await redis.zrem(keys.inFlight, conversationId);
        continue;
      }
      report.checked++;
      const repair = await this.check(record);
      if (repair === 'republished') report.republished++;
      if (repair === 'rerouted') report.rerouted++;
      if (repair === 'resumed') report.resumed++;
      if (repair === 'applied-stored-turn') report.appliedStored++;
    }
    return report;
  }

  /**
   * Applies the start a client left as the conversation's starting mark: `none` when there is no
   * mark, `applied` when this applied it, `waiting` when it was applied already (a late inbox entry
   * got there first) or could not be applied now (it is tried again next time it is due — until it
   * is older than {@link MAX_STORED_START_TRIES} reconcile periods: then it is settled as failed, so
   * its conversation ends with the error, and dead-lettered).
   */
  private async applyStoredStart(conversationId: string, now: number): Promise<'none' | 'applied' | 'waiting'> {
    const start = await readStoredStart(this.deps.redis, this.deps.keys, conversationId);
    if (start === null) return 'none';
    try {
      const outcome = await this.deps.coordinator.handle(start);
      if (outcome !== 'applied') return 'waiting';
      this.deps.logger.warn({ conversationId }, 'a start waited unapplied (its inbox entry was lost); applied from its starting mark');
      this.note('applied-stored-start', null);
      return 'applied';
    } catch (error) {
      const createdAt = Number((start as { createdAt?: unknown }).createdAt);
      const tooOld = !Number.isFinite(createdAt) || now - createdAt > MAX_STORED_START_TRIES * this.afterMs;
      this.deps.logger.warn({ conversationId, err: error, givingUp: tooOld }, 'applying a start from its starting mark failed');
      if (tooOld) {
        const errorJson = toErrorJson(error, ErrorCode.INTERNAL);
        await this.deps.coordinator.settleFailedJob(start, errorJson);
        await addDeadLetter(this.deps.queues, { sourceQueue: (await this.deps.queues.coordinatorFor(conversationId)).name, jobId: undefined, conversationId, error: errorJson, payload: start });
      }
      return 'waiting';
    }
  }

  private async check(record: ConversationRecord): Promise<Repair | null> {
    const { coordinator, queues } = this.deps;
    const next = record.next;
    if (record.status === 'awaiting_child' || !next || record.appliedSeq !== next.seq - 1) {
      // A parent waiting on a child, or a step whose effects are all it lacks: run them again (idempotent).
      await coordinator.resume(record);
      return this.note(record.status === 'awaiting_child' ? 'resumed' : null, null);
    }
    // The hop's worker sent its result, and no gateway applied it (the inbox entry was lost with a gateway, or never pushed).
    const stored = await readStoredTurn(this.deps.redis, this.deps.keys, record.conversationId, next.hopId, record.epoch);
    if (stored !== null) {
      await this.warn(record, `the result of hop ${next.hopId} (${next.agent}) waited unapplied; applied from its stored copy`, { agent: next.agent, hopId: next.hopId });
      await coordinator.handle(stored);
      return this.note('applied-stored-turn', next.agent);
    }
    const lane = queues.lane(next.agent);
    const jobId = hopJobId(next.hopId, record.epoch);
    const state = await lane.state(jobId);
    if (state === 'active') return null; // a worker holds it; its lease running out puts it back
    if (state === 'failed') return null; // the failure sweeper gives it to the agent's fallbacks
    if (state === 'unknown') {
      // The hop is not in its lane: never published, or its run ended without a result.
      await this.warn(record, `hop ${next.hopId} to ${next.agent} was not in its agent's lane; published again`, { agent: next.agent, hopId: next.hopId });
      await coordinator.resume(record);
      return this.note('republished', next.agent);
    }
    // Waiting on the queue: fine while the agent has a live worker.
    if ((await this.deps.health.liveWorkers(next.agent)) > 0) return null;
    const rerouted = await coordinator.rerouteQueuedHop(record, (agent) => queues.lane(agent).remove(hopJobId(next.hopId, record.epoch)));
    if (rerouted) return this.note('rerouted', next.agent);
    if (!this.warned.has(`${record.conversationId}/${next.hopId}/${record.epoch}`)) {
      this.warned.add(`${record.conversationId}/${next.hopId}/${record.epoch}`);
      if (this.warned.size > 10_000) this.warned.clear();
      await this.warn(record, `agent "${next.agent}" has no live worker; hop ${next.hopId} waits on its queue until one starts`, { agent: next.agent, hopId: next.hopId });
      return this.note('no-live-worker', next.agent);
    }
    return null;
  }

  private async warn(record: ConversationRecord, message: string, details: Record<string, unknown>): Promise<void> {
    this.deps.logger.warn({ conversationId: record.conversationId, ...details }, message);
    await this.deps.events.append(record.conversationId, { type: 'warning', message, details });
  }

  private note(repair: Repair | null, agent: string | null): Repair | null {
    if (repair) this.deps.observer?.repaired(repair, agent);
    return repair;
  }
}
