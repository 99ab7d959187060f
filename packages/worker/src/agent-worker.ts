import type { RedisClient } from '@handoff/redis';
import type { Logger } from 'pino';
import {
  contextOfTraceparent,
  endSpan,
  startSpan,
  traceparentOfSpan,
  withSpan,
  type Message,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_STALLED_INTERVAL_MS,
  Envelope,
  ErrorCode,
  HandoffError,
  StaleHopError,
  TurnTimeoutError,
  newInstanceId,
  MAX_ENVELOPE_BYTES,
  assertPayloadSize,
  SCHEMA_VERSION,
  agentQueueName,
  hopId as hopIdOf,
  hopOfJobId,
  hrNow,
  isValidConversationId,
  parseBoundary,
  parseJsonOrRaw,
  toErrorJson,
  ZERO_USAGE,
  type ErrorJson,
  type NetworkDefinition,
  type TurnResult,
} from '@handoff/core';
import { addDeadLetter, looseConversationId, type ConversationStore, type EventLog, type QueueSet, type TakenHop, type TurnInbox, type TurnJournal } from '@handoff/redis';
import { HopConsumer } from './hop-consumer.js';
import type { HistoryCache } from './history-cache.js';
import type { TurnTool } from './turn/turn-tools.js';
import type { ModelClients } from './model/model-clients.js';
import { runTurn, type TurnRun } from './turn/run-turn.js';
import { TurnEvents } from './turn/turn-events.js';
import { TurnJournalRun } from './turn/turn-journal-run.js';

/** What an agent worker needs; {@link startWorkers} wires it. */
export interface AgentWorkerDeps {
  network: NetworkDefinition;
  agent: string;
  store: ConversationStore;
  events: EventLog;
  queues: QueueSet;
  /** Where turn results go (the coordinator partition's turn inbox). */
  inbox: TurnInbox;
  clients: ModelClients;
  historyCache: HistoryCache;
  /** The agent's function and MCP tools. */
  tools: readonly TurnTool[];
  logger: Logger;
  workerId: string;
  /**
   * The turn journal: each turn's completed model responses and tool results, replayed by a re-run
   * of its hop. Without it every re-run calls the model and runs the tools again.
   */
  journal?: TurnJournal | undefined;
}

/** Lease and stall settings of an agent's hop consumer, sized for model calls of seconds to minutes. */
export interface AgentWorkerOptions {
  /** A connection the consumer duplicates for its blocking wait. */
  connection: RedisClient;
  /** Turns run at once by this worker. @defaultValue 8 */
  concurrency?: number;
  /** How long a taken hop is leased (renewed every half of it while its turn runs). @defaultValue {@link DEFAULT_LOCK_DURATION_MS} */
  lockDurationMs?: number;
  /** How often leases that ran out (a dead or frozen worker's) are looked for. @defaultValue {@link DEFAULT_STALLED_INTERVAL_MS} */
  stalledIntervalMs?: number;
  /** Stalls a hop may have before it fails. @defaultValue {@link DEFAULT_MAX_STALLED_COUNT} */
  maxStalledCount?: number;
  /** On close, how long running turns may take before they are handed back. @defaultValue {@link DEFAULT_DRAIN_TIMEOUT_MS} */
  drainTimeoutMs?: number;
}

/** What happened to one hop job. */
export type HopOutcome = 'turn-sent' | 'stale' | 'dead-lettered' | 'cancelled';

/** The minimum of a taken hop the handler reads (so tests can call it directly). */
export interface HopJobInfo {
  /** The hop job id it was pushed under. */
  id?: string | undefined;
  /** Runs of it that failed before. */
  attemptsMade: number;
  /** Runs of it started, this one included. */
  attemptsStarted?: number | undefined;
  /** The length of the payload's JSON text, when the caller read it as text (else it is measured). */
  size?: number | undefined;
}

/**
 * Runs the turns of one agent: each entry of the agent's hop lane is one hop. A valid, current hop runs
 * one model turn and sends its result to the coordinator; a stale hop (already applied, or its
 * conversation finished) is skipped; an invalid job goes to the dead-letter queue with an error
 * event, and when it names its hop the conversation is ended with that error.
 */
export class AgentWorker {
  private readonly queueName: string;
  private consumer: HopConsumer | undefined;
  /** Turns running in this process, by conversation, so a cancellation can abort them. */
  private readonly running = new Map<string, Set<AbortController>>();

  constructor(private readonly deps: AgentWorkerDeps) {
    this.queueName = agentQueueName(deps.agent);
  }

  /** Handles one hop job payload. */
  async handle(payload: unknown, job: HopJobInfo, signal?: AbortSignal): Promise<HopOutcome> {
    const { store, inbox, logger, historyCache } = this.deps;
    const startedAt = hrNow();
    let envelope: Envelope;
    try {
      assertPayloadSize(payload, MAX_ENVELOPE_BYTES, `Envelope on queue "${this.queueName}"`, job.size);
      envelope = parseBoundary(Envelope, payload, `Envelope on queue "${this.queueName}"`);
      if (envelope.agent !== this.deps.agent) {
        throw new HandoffError(ErrorCode.VALIDATION_FAILED, `Envelope for agent "${envelope.agent}" arrived on the queue of "${this.deps.agent}".`);
      }
    } catch (error) {
      await this.reject(payload, job.id, error);
      return 'dead-lettered';
    }

    // Every line about this hop carries the conversation, the hop and the agent.
    const hopLogger = logger.child({ conversationId: envelope.conversationId, hopId: envelope.hopId });
    // An envelope without an incarnation (published before they existed) is checked by its sequence only.
    const { progress, history } = await historyCache.read(store, envelope.conversationId, envelope.historyLength, envelope.epoch, job.id);
    if (!progress || !history || progress.status !== 'running' || progress.appliedSeq !== envelope.seq - 1) {
      hopLogger.info({ progress, epoch: envelope.epoch }, 'stale hop skipped');
      return 'stale';
    }
    if ((job.attemptsStarted ?? 1) > 1 && (await inbox.holds(envelope.conversationId, envelope.hopId, envelope.epoch))) {
      hopLogger.info('turn result already sent by an earlier attempt');
      return 'turn-sent';
    }

    const attempt = job.attemptsMade + 1;
    // One span per hop, under the handoff (or conversation) span the envelope names; the queue
    // wait before it is a span of its own. Spans are no-ops when tracing is off.
    const hopSpan = startSpan(`hop ${this.deps.agent}`, contextOfTraceparent(envelope.traceparent), {
      'handoff.conversation_id': envelope.conversationId,
      'handoff.hop_id': envelope.hopId,
      'handoff.agent': this.deps.agent,
      'handoff.seq': envelope.seq,
      'handoff.attempt': attempt,
      'handoff.worker_id': this.deps.workerId,
    }, { startTime: envelope.createdAt });
    const hopTraceparent = traceparentOfSpan(hopSpan);
    endSpan(startSpan('queue wait', contextOfTraceparent(hopTraceparent), { 'messaging.destination.name': this.queueName }, { startTime: envelope.createdAt }), undefined, startedAt);
    try {
      const outcome = await withSpan(hopSpan, () => this.runHop(envelope, history, attempt, job.attemptsStarted ?? 1, startedAt, hopLogger, hopTraceparent, signal));
      hopSpan.setAttribute('handoff.hop_outcome', outcome);
      endSpan(hopSpan);
      return outcome;
    } catch (error) {
      endSpan(hopSpan, error);
      throw error;
    }
  }

  /** Runs a current hop's turn and sends its result to the coordinator. */
  private async runHop(envelope: Envelope, history: readonly Message[], attempt: number, attemptsStarted: number, startedAt: number, hopLogger: Logger, hopTraceparent: string | undefined, signal: AbortSignal | undefined): Promise<HopOutcome> {
    const { network, events, inbox, clients } = this.deps;
    const turnEvents = new TurnEvents(events, envelope.conversationId, this.deps.agent, envelope.hopId, this.deps.logger);
    // What an earlier run of this hop journaled is replayed; agent.started says from where.
    const hop = { conversationId: envelope.conversationId, hopId: envelope.hopId, seq: envelope.seq, epoch: envelope.epoch, agent: this.deps.agent };
    // A hop's first run has no journal to read (an earlier run of it would have started it first).
    const journal = this.deps.journal ? await TurnJournalRun.open(this.deps.journal, hop, turnEvents, newInstanceId('run'), hopLogger, attemptsStarted > 1) : TurnJournalRun.off(hop);
    const resumed = journal.resumePoint;
    if (resumed) hopLogger.info({ resumed }, 'turn resumed from its journal');
    turnEvents.emit({ type: 'agent.started', agent: this.deps.agent, hopId: envelope.hopId, seq: envelope.seq, attempt, workerId: this.deps.workerId, ...(resumed ? { resumed } : {}) });
    const agent = network.agent(this.deps.agent);
    // The turn stops when the consumer hands the hop back (shutdown), when its conversation is cancelled,
    // or when it outlives the agent's turn timeout.
    const cancel = new AbortController();
    const timeout = AbortSignal.timeout(agent.turnTimeoutMs);
    const turnSignal = AbortSignal.any([cancel.signal, timeout, ...(signal ? [signal] : [])]);
    const stop = this.track(envelope.conversationId, cancel);
    let run: TurnRun;
    try {
      run = await runTurn({
        network,
        agent,
        envelope,
        history,
        client: clients.for(agent.resolvedModel),
        events: turnEvents,
        tools: this.deps.tools,
        logger: hopLogger,
        signal: turnSignal,
        journal,
      });
    } catch (error) {
      if (error instanceof StaleHopError) {
        await turnEvents.drain();
        hopLogger.info('turn stopped: its hop is no longer pending (another run reported it)');
        return 'stale';
      }
      if (cancel.signal.aborted) {
        await turnEvents.drain();
        hopLogger.info('turn aborted: conversation cancelled');
        return 'cancelled';
      }
      if (!timeout.aborted) throw error;
      run = { newMessages: [], usage: ZERO_USAGE, contextPatch: undefined, model: { firstCallAt: null, lastReturnAt: null, totalMs: 0 }, outcome: { type: 'failed', error: new TurnTimeoutError(agent.name, agent.turnTimeoutMs).toJSON() } };
    } finally {
      stop();
    }
    if (cancel.signal.aborted) return 'cancelled';

    const result: TurnResult = {
      schemaVersion: SCHEMA_VERSION,
      kind: 'turn',
      conversationId: envelope.conversationId,
      hopId: envelope.hopId,
      seq: envelope.seq,
      agent: this.deps.agent,
      newMessages: run.newMessages,
      ...(run.contextPatch ? { contextPatch: run.contextPatch } : {}),
      outcome: run.outcome,
      usage: run.usage,
      attempt,
      workerId: this.deps.workerId,
      ...(envelope.epoch === undefined ? {} : { epoch: envelope.epoch }),
      ...(hopTraceparent === undefined ? {} : { traceparent: hopTraceparent }),
      timing: {
        queuedAt: envelope.createdAt,
        startedAt,
        firstModelCallAt: run.model.firstCallAt,
        lastModelReturnAt: run.model.lastReturnAt,
        modelMs: run.model.totalMs,
        finishedAt: hrNow(),
      },
    };
    // The turn's unwritten events go with its result, in one call; those written before land first (same connection).
    const [sent] = await Promise.all([inbox.send(result, turnEvents.takeRest()), turnEvents.written()]);
    hopLogger.debug({ outcome: run.outcome.type, sent }, 'turn done');
    return sent === 'sent' ? 'turn-sent' : 'stale';
  }

  /**
   * Dead-letters an invalid hop job. When the payload still names its conversation, hop and seq,
   * a failed turn result goes to the coordinator too, so the conversation ends with the reason
   * instead of waiting forever.
   */
  private async reject(payload: unknown, jobId: string | undefined, error: unknown): Promise<void> {
    const errorJson = toErrorJson(error, ErrorCode.VALIDATION_FAILED);
    // The payload names its hop; when it cannot be read (overwritten, truncated), the job id does: it is the hop's.
    const fromJobId = hopOfJobId(jobId);
    const conversationId = looseConversationId(payload) ?? fromJobId?.conversationId;
    this.deps.logger.warn({ conversationId, jobId, error: errorJson }, 'hop job dead-lettered');
    await addDeadLetter(this.deps.queues, { sourceQueue: this.queueName, jobId, conversationId, error: errorJson, payload });
    if (!conversationId) return;
    await this.deps.events.append(conversationId, { type: 'error', error: errorJson, agent: this.deps.agent });
    const hop = looseHop(payload) ?? (fromJobId?.conversationId === conversationId ? fromJobId : undefined);
    if (hop) await this.sendFailure(conversationId, hop, errorJson);
  }

  private async sendFailure(conversationId: string, hop: { hopId: string; seq: number; epoch?: string }, error: ErrorJson): Promise<void> {
    const now = hrNow();
    const result: TurnResult = {
      schemaVersion: SCHEMA_VERSION,
      kind: 'turn',
      conversationId,
      hopId: hop.hopId,
      seq: hop.seq,
      agent: this.deps.agent,
      newMessages: [],
      outcome: { type: 'failed', error },
      usage: ZERO_USAGE,
      attempt: 1,
      workerId: this.deps.workerId,
      ...(hop.epoch === undefined ? {} : { epoch: hop.epoch }),
      timing: { queuedAt: now, startedAt: now, firstModelCallAt: null, lastModelReturnAt: null, modelMs: 0, finishedAt: now },
    };
    await this.deps.inbox.send(result);
  }

  /** Aborts this process's running turns of a conversation (it was cancelled or ended). */
  abortConversation(conversationId: string): number {
    const controllers = this.running.get(conversationId);
    for (const controller of controllers ?? []) controller.abort(new Error('conversation cancelled'));
    return controllers?.size ?? 0;
  }

  private track(conversationId: string, controller: AbortController): () => void {
    let set = this.running.get(conversationId);
    if (!set) this.running.set(conversationId, (set = new Set()));
    set.add(controller);
    return () => {
      set.delete(controller);
      if (set.size === 0) this.running.delete(conversationId);
    };
  }

  /**
   * Stops taking hops and waits up to `drainTimeoutMs` for running turns to finish; turns still
   * running then are aborted and handed back to the lane for other replicas (not failed, not
   * counted as an attempt). Idempotent.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    await this.consumer?.close(drainTimeoutMs);
  }

  /** Resolves once the agent's consumer has made its first take. */
  waitUntilReady(): Promise<void> {
    return this.consumer?.readyPromise ?? Promise.resolve();
  }

  /** Starts consuming the agent's hop lane. */
  start(options: AgentWorkerOptions): HopConsumer {
    const consumer = new HopConsumer(
      this.deps.queues.lane(this.deps.agent),
      options.connection,
      (hop: TakenHop, signal: AbortSignal) => this.handle(parseJsonOrRaw(hop.payload), { id: hop.id, attemptsMade: hop.fails, attemptsStarted: hop.runs, size: hop.payload.length }, signal),
      {
        concurrency: options.concurrency ?? 8,
        leaseMs: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
        reclaimIntervalMs: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
        maxStalls: options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
        // Woken for a hop: its turn input is read with the take, not after it.
        woken: (hint) => this.deps.historyCache.prefetch(this.deps.store, hint.hop, hint.conversationId, hint.historyLength, hint.epoch),
        // Out of retries: the conversation ends with the reason rather than waits for the sweep.
        lastAttemptFailed: async (hop, error) => {
          const payload = parseJsonOrRaw(hop.payload);
          const conversationId = looseConversationId(payload);
          const named = looseHop(payload);
          if (conversationId && named) await this.sendFailure(conversationId, named, toErrorJson(error));
        },
      },
      this.deps.logger,
      this.deps.workerId,
    );
    consumer.start();
    this.consumer = consumer;
    return consumer;
  }
}

/**
 * The hop a payload names, if it names one the way the coordinator does (a valid conversation id,
 * and the hop id that conversation and seq give): only such a hop can be answered with a turn
 * result, whose job id derives from the hop id.
 */
function looseHop(payload: unknown): { hopId: string; seq: number; epoch?: string } | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const { conversationId, hopId, seq, epoch } = payload as { conversationId?: unknown; hopId?: unknown; seq?: unknown; epoch?: unknown };
  if (typeof conversationId !== 'string' || !isValidConversationId(conversationId)) return undefined;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) return undefined;
  if (hopId !== hopIdOf(conversationId, seq)) return undefined;
  // The incarnation goes into the result's job id, so only one that is safe there is kept.
  return typeof epoch === 'string' && /^[a-z0-9]{1,40}$/.test(epoch) ? { hopId, seq, epoch } : { hopId, seq };
}
