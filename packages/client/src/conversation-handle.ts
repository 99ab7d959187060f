import type { RedisClient } from '@handoff/redis';
import {
  ConversationNotFoundError,
  ConversationNotStartedError,
  ConversationNotWaitingError,
  ApprovalCommand,
  ErrorCode,
  EventId,
  HandoffError,
  SCHEMA_VERSION,
  UserMessageCommand,
  parseBoundary,
  type Message,
  TERMINAL_EVENT_TYPES,
  TERMINAL_STATUSES,
  TimeoutError,
  newOperationId,
  resultOfRecord,
  archivedEventsAfter,
  type ArchiveReader,
  type ArchivedConversation,
  type ConversationRecord,
  ConversationResult,
  type KeyLayout,
  type StoredEvent,
  TranscriptQuery,
  transcriptPage,
  type TranscriptPage,
  parseJsonOrRaw,
} from '@handoff/core';
import { EventLog, type BlockingPool, type ChangeWatcher, type ConversationStore } from '@handoff/redis';
import type { ApprovalOptions, CommandOptions, ConversationHandle, EventsOptions, ResultOptions, SendOptions } from './handle.js';

const POLL_BLOCK_MS = 1_000;
/** How often a result waiter re-reads the record even without a wake-up (one lost while the subscriber reconnected). */
const RESULT_RECHECK_MS = 2_000;
/** How often it re-reads while its subscription is not confirmed (Redis away, or the subscribe failed). */
const RESULT_RECHECK_UNSUBSCRIBED_MS = 250;

/** The connections a client's waits share: one subscriber for every result wait, a bounded pool for event reads. */
export interface SharedWaits {
  /** Wakes result waiters when a conversation parks (one subscriber connection per client). */
  watcher: ChangeWatcher;
  /** Blocking event reads borrow a connection per read; when none is free in time, they read without blocking. */
  blocking: BlockingPool;
}

/** How long `status()` waits for the coordinator to apply a queued start before it says the start waits. */
const STATUS_WAIT_MS = 5_000;

/**
 * A handle on one conversation: its id, its status, its events as they happen, and its result.
 * Any number of handles, in any processes, may watch the same conversation.
 */
export class RedisConversationHandle implements ConversationHandle {
  constructor(
    /** The conversation id. */
    readonly id: string,
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly store: ConversationStore,
    /** True while the conversation's start command is queued but not yet applied. */
    private readonly startPending: () => Promise<boolean>,
    /** Sends a user message command and waits until it applied (the client owns the queue). */
    private readonly enqueueMessage: (command: UserMessageCommand & { operationId: string }) => Promise<void>,
    private readonly cancelConversation: (conversationId: string, reason: string | undefined, operationId?: string) => Promise<void>,
    /** Sends an approval command and waits until it applied. */
    private readonly enqueueApproval: (command: ApprovalCommand & { operationId: string }) => Promise<void>,
    /** The client's shared connections for waiting. */
    private readonly waits: SharedWaits,
    /** Where finished conversations are read once they left Redis (status, result, events); none: not found. */
    private readonly archive?: ArchiveReader,
  ) {}

  approve(options: ApprovalOptions = {}): Promise<void> {
    return this.decide(true, options).then(() => undefined);
  }

  reject(options: ApprovalOptions = {}): Promise<void> {
    return this.decide(false, options).then(() => undefined);
  }

  /** Approves or rejects pending tool calls; returns the record version the decision answers. */
  async decide(approved: boolean, options: ApprovalOptions = {}): Promise<number> {
    const record = await this.currentRecord();
    const waiting = record?.waiting;
    if (!record || record.status !== 'awaiting_user' || waiting?.kind !== 'approval') {
      throw new ConversationNotWaitingError(this.id, record?.status ?? 'starting', 'approval');
    }
    const pending = waiting.calls.filter((c) => !waiting.decisions[c.toolCallId]);
    const calls = options.toolCallId === undefined ? pending : pending.filter((c) => c.toolCallId === options.toolCallId);
    if (calls.length === 0) {
      throw new HandoffError(ErrorCode.VALIDATION_FAILED, `No pending tool call ${options.toolCallId ?? ''} to decide; pending: ${pending.map((c) => c.toolCallId).join(', ') || 'none'}.`);
    }
    const operationId = options.operationId ?? newOperationId();
    const command = parseBoundary(
      ApprovalCommand,
      {
        schemaVersion: SCHEMA_VERSION,
        kind: 'approval',
        conversationId: this.id,
        decisions: calls.map((c) => ({ toolCallId: c.toolCallId, approved, ...(options.reason === undefined ? {} : { reason: options.reason }) })),
        operationId,
        createdAt: Date.now(),
      },
      'Approval',
    );
    await this.enqueueApproval({ ...command, operationId });
    this.sentAtVersion = record.version;
    return record.version;
  }

  /** Cancels the conversation (see {@link ConversationHandle.cancel}). */
  async cancel(reason?: string, options: CommandOptions = {}): Promise<void> {
    // Neither a record nor a queued start: nothing to cancel (said at once, without a round trip to the coordinator).
    if (!(await this.store.existsOrStarting(this.id))) throw new ConversationNotFoundError(this.id);
    await this.cancelConversation(this.id, reason, options.operationId);
  }

  /** Results at or below this record version are from before the last message this handle sent. */
  private sentAtVersion = -1;

  /**
   * Sends the user's next message: the answer to a revert-to-user or ask-user (pass `agent` to
   * pick who continues from the ask-user choices), or a new turn of a completed conversation (its
   * last agent continues). After it, {@link ConversationHandle.result} waits for the next stop.
   * @throws {@link ConversationNotWaitingError} while the conversation runs, or when it failed.
   */
  async send(message: string | Message, options: SendOptions = {}): Promise<void> {
    await this.sendForVersion(message, options);
  }

  /** Like {@link RedisConversationHandle.send}, and returns the record version the message answers. */
  async sendForVersion(message: string | Message, options: SendOptions = {}): Promise<number> {
    const record = await this.currentRecord();
    if (!record || (record.status !== 'awaiting_user' && record.status !== 'completed')) {
      throw new ConversationNotWaitingError(this.id, record?.status ?? 'starting');
    }
    const operationId = options.operationId ?? newOperationId();
    const command = parseBoundary(
      UserMessageCommand,
      {
        schemaVersion: SCHEMA_VERSION,
        kind: 'user_message',
        conversationId: this.id,
        message,
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        expectedVersion: record.version,
        operationId,
        createdAt: Date.now(),
      },
      'User message',
    );
    await this.enqueueMessage({ ...command, operationId });
    this.sentAtVersion = record.version;
    return record.version;
  }

  /**
   * The record, or null while the start command is still queued.
   * @throws {@link ConversationNotFoundError} when there is neither.
   */
  private async currentRecord(): Promise<ConversationRecord | null> {
    const record = await this.store.read(this.id);
    if (record) return record;
    if (await this.startPending()) return null;
    // The start may have been applied between the two reads.
    const applied = await this.store.read(this.id);
    if (applied) return applied;
    throw new ConversationNotFoundError(this.id);
  }

  /**
   * The conversation as the archive keeps it, when Redis no longer has it (neither its record nor
   * a queued start) and an archive is configured; else null.
   */
  private async archivedWhenGone(): Promise<ArchivedConversation | null> {
    if (!this.archive || (await this.store.existsOrStarting(this.id))) return null;
    return this.archive.load(this.id);
  }

  /** {@link RedisConversationHandle.currentRecord}, or the archived record once the conversation left Redis. */
  private async readableRecord(): Promise<ConversationRecord | null> {
    try {
      return await this.currentRecord();
    } catch (error) {
      if (!(error instanceof ConversationNotFoundError)) throw error;
      const archived = await this.archivedWhenGone();
      if (archived) return archived.record;
      throw error;
    }
  }

  /**
   * The conversation record now (a superset of the view HTTP clients get). Right after a start,
   * it waits briefly for the coordinator to create the record. A finished conversation that left
   * Redis is read from the archive, when the client has one.
   * @throws {@link ConversationNotFoundError} when it does not exist;
   *   {@link ConversationNotStartedError} when its start still waits in its coordinator partition's inbox (no gateway applied it).
   */
  async status(): Promise<ConversationRecord> {
    for (let waited = 0; ; waited += 25) {
      const record = await this.readableRecord();
      if (record) return record;
      // Still no record: the start is queued and no gateway has applied it (else currentRecord threw NOT_FOUND).
      if (waited >= STATUS_WAIT_MS) throw new ConversationNotStartedError(this.id, this.keys.prefix, STATUS_WAIT_MS);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * A page of the conversation's transcript: its history in the OpenAI message format, oldest
   * first, each message with the agent whose turn added it (null for the user's). Read from the
   * archive once the conversation left Redis (with an archive).
   * @throws {@link ConversationNotFoundError}; ValidationError for a bad `from` or `limit`.
   */
  async messages(query: TranscriptQuery = {}): Promise<TranscriptPage> {
    const page = parseBoundary(TranscriptQuery, query, 'Transcript query');
    const archived = await this.archivedWhenGone();
    if (archived) {
      const history = archived.history as Message[];
      return transcriptPage(this.id, history.slice(page.from, page.from + page.limit), archived.events as StoredEvent[], page, history.length);
    }
    const record = await this.status();
    const [history, events] = await Promise.all([this.store.range(this.id, page.from, page.limit), new EventLog(this.redis, this.keys).readAll(this.id)]);
    return transcriptPage(this.id, history, events, page, record.historyLength);
  }

  /** Throws {@link ConversationNotFoundError} unless the conversation exists, its start is queued, or the archive has it. */
  async assertExists(): Promise<void> {
    await this.readableRecord();
  }

  /**
   * Waits for the conversation to stop and returns how — completed with an output, failed with a
   * reason (hop limit, model down, unknown agent…), or `awaiting_user` (answer it with
   * {@link ConversationHandle.send}). It never throws for a failed conversation; check `status`.
   * @throws {@link TimeoutError} when it has not ended within `timeoutMs`.
   */
  async result(options: ResultOptions = {}): Promise<ConversationResult> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    if (options.afterVersion !== undefined) this.sentAtVersion = Math.max(this.sentAtVersion, options.afterVersion);
    const deadline = Date.now() + timeoutMs;
    // Watched before the first read: a park published after it wakes this waiter.
    const watch = await this.waits.watcher.watch(this.keys.done(this.id));
    try {
      for (;;) {
        const record = await this.readableRecord();
        const stale = record !== null && record.version <= this.sentAtVersion;
        const result = record && !stale ? resultOfRecord(record) : null;
        if (result) return result;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new TimeoutError(`Conversation ${this.id}`, timeoutMs);
        if (stale && resultOfRecord(record) !== null) {
          // The stop this handle answered is still marked: wait for the coordinator to take the message.
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        const signalled = await watch.next(Math.min(remaining, watch.live() ? RESULT_RECHECK_MS : RESULT_RECHECK_UNSUBSCRIBED_MS));
        // The wake-up carries the result the step that parked the conversation left (newer than the one answered): no read needed.
        const told = signalled ? resultTold(watch.lastMessage(), this.sentAtVersion) : null;
        if (told) return told;
      }
    } finally {
      watch.close();
    }
  }

  /**
   * The conversation's events, in order, from the start (or after `options.after`), as they
   * happen. The iteration ends after the terminal event, and at once when resumed after the
   * terminal event of a finished conversation. A late subscriber sees everything; once the
   * conversation left Redis, the archive's copy of its log is replayed (with an archive).
   * @throws ValidationError (VALIDATION_FAILED) when `options.after` is not an event id (before reading anything).
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<StoredEvent, void, undefined> {
    const resumeAfter = options.after === undefined ? undefined : parseBoundary(EventId, options.after, 'The event id to resume after (after)');
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const log = new EventLog(this.redis, this.keys);
    let after = resumeAfter ?? '0';
    for (;;) {
      if (Date.now() >= deadline) throw new TimeoutError(`Events of conversation ${this.id}`, options.timeoutMs ?? 0);
      let events = await this.readEventsBlocking(log, after);
      if (events.length === 0) {
        // Nothing new: make sure the conversation exists (its status is one small read; the full
        // record only when it is missing, for the not-found check), and whether it stopped.
        const progress = await this.store.readProgress(this.id);
        if (!progress) {
          const archived = await this.archivedWhenGone();
          if (archived) {
            for (const event of archivedEventsAfter(archived, after)) {
              yield event;
              if (TERMINAL_EVENT_TYPES.has(event.type)) return;
            }
            return;
          }
          await this.currentRecord();
          continue;
        }
        if (progress.status !== 'running') {
          // Parked or ended: read once more (its last events may have come since the read above).
          // An ended one has nothing after that; a parked one, only once it continues — unless its log is gone.
          events = await log.read(this.id, { after });
          if (events.length === 0 && (TERMINAL_STATUSES.has(progress.status) || (await this.redis.exists(this.keys.events(this.id))) === 0)) return;
        }
      }
      for (const event of events) {
        after = event.id;
        yield event;
        if (TERMINAL_EVENT_TYPES.has(event.type)) return;
      }
    }
  }

  /**
   * The events after `after`, waiting up to {@link POLL_BLOCK_MS} for some on a connection of the
   * client's pool; when no connection is free within that time, a read that does not block.
   */
  private async readEventsBlocking(log: EventLog, after: string): Promise<StoredEvent[]> {
    const read = await this.waits.blocking.with(POLL_BLOCK_MS, (connection, remainingMs) => log.read(this.id, { after, blockMs: Math.max(1, remainingMs), blockOn: connection }));
    return read ?? log.read(this.id, { after });
  }
}

/**
 * The result a park's wake-up message carries (`{"version":…,"result":…}`, published by the apply
 * step that parked the conversation), when it is newer than `afterVersion` and reads as a result;
 * null for a bare `done` or anything else (the waiter then reads the record).
 */
function resultTold(message: string | undefined, afterVersion: number): ConversationResult | null {
  if (message === undefined || !message.startsWith('{')) return null;
  const told = parseJsonOrRaw(message) as { version?: unknown; result?: unknown } | string;
  if (typeof told !== 'object' || typeof told.version !== 'number' || told.version <= afterVersion) return null;
  const parsed = ConversationResult.safeParse(told.result);
  return parsed.success ? parsed.data : null;
}
