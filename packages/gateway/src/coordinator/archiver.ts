import type { Logger } from 'pino';
import {
  ARCHIVE_RETRY_BASE_MS,
  DEFAULT_ARCHIVE_BATCH,
  DEFAULT_ARCHIVE_CONCURRENCY,
  DEFAULT_ARCHIVE_INTERVAL_MS,
  DEFAULT_ARCHIVE_KEEP_SECONDS,
  MAX_ARCHIVE_RETRY_DELAY_MS,
  ErrorCode,
  isHandoffError,
  toErrorJson,
  type ConversationArchive,
  type KeyLayout,
} from '@handoff/core';
import { readFinishedConversation, shortenArchivedRetention, type ConversationStore, type EventLog, type RedisClient } from '@handoff/redis';
import { Periodic } from './periodic.js';
import { releaseArchiveEntry } from './archive-queue.js';

/** Options of {@link Archiver}. */
export interface ArchiverOptions {
  /** Seconds an archived conversation stays in Redis (its keys' TTL is shortened to this). @defaultValue {@link DEFAULT_ARCHIVE_KEEP_SECONDS} */
  keepSeconds?: number;
  /** How often to look for conversations to archive. @defaultValue {@link DEFAULT_ARCHIVE_INTERVAL_MS} */
  intervalMs?: number;
  /** Conversations archived per round at most. @defaultValue {@link DEFAULT_ARCHIVE_BATCH} */
  batch?: number;
  /** Conversations written at once (keep it at most the archive's connection pool). @defaultValue {@link DEFAULT_ARCHIVE_CONCURRENCY} */
  concurrency?: number;
}

/** What the archiver needs; the gateway wires it. */
export interface ArchiverDeps {
  archive: ConversationArchive;
  store: ConversationStore;
  events: EventLog;
  redis: RedisClient;
  keys: KeyLayout;
  logger: Logger;
  /** Told what each try did (metrics). */
  observer?: ArchiverObserver;
}

/** What one try to archive a conversation came to. */
export type ArchiveOutcome = 'archived' | 'failed' | 'skipped';

/** Something that wants to know every try, e.g. metrics. */
export interface ArchiverObserver {
  archiveTried(outcome: ArchiveOutcome): void;
}

/** What one round did. */
export interface ArchiveReport {
  /** Conversations written to the archive (their Redis keys then shortened, unless revived meanwhile). */
  archived: number;
  /** Tries that failed (the archive down, a read error): left in the index, tried again after a delay. */
  failed: number;
  /** Entries dropped without a write: the conversation is running again (its next end queues it anew) or left Redis. */
  skipped: number;
}

/**
 * Moves finished conversations to the archive. Every conversation that ends is put in the
 * pending-archive index (by the coordinator's effects, or by the reconciler when a crash fell
 * between the end and that write); each round reads the entries that are due (at most `batch`,
 * never a scan), and for each: reads the conversation from Redis, writes it to the archive
 * (an upsert), and only then shortens its keys' TTL to `keepSeconds` — if it is still the
 * finished conversation that was written — and removes the entry. A failure anywhere leaves the
 * entry, due again after a delay that doubles per failure (1 s … 60 s); a crash leaves it due.
 * Nothing is lost: a conversation's keys keep their normal retention until it is archived.
 * Several gateways may run it at once: each entry is pushed ahead before it is worked on, and
 * every step is idempotent.
 */
export class Archiver {
  private readonly rounds: Periodic;
  /** Consecutive failures per conversation (this process's view; bounded), for the retry delay. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly deps: ArchiverDeps,
    private readonly options: ArchiverOptions = {},
  ) {
    this.rounds = new Periodic(() => this.runOnce(), options.intervalMs ?? DEFAULT_ARCHIVE_INTERVAL_MS, (error) => deps.logger.warn({ err: error }, 'archive round failed'));
  }

  /** Seconds an archived conversation stays in Redis. */
  get keepSeconds(): number {
    return this.options.keepSeconds ?? DEFAULT_ARCHIVE_KEEP_SECONDS;
  }

  /** Starts archiving periodically (the timer does not keep the process alive). */
  start(): void {
    this.rounds.start();
  }

  /** Stops, and waits for a round in progress. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round over the entries that are due. */
  async runOnce(now = Date.now()): Promise<ArchiveReport> {
    const { redis, keys } = this.deps;
    const report: ArchiveReport = { archived: 0, failed: 0, skipped: 0 };
    const due = await redis.zrangebyscore(keys.archivePending, '-inf', now, 'LIMIT', 0, this.options.batch ?? DEFAULT_ARCHIVE_BATCH);
    const parallel = Math.max(1, this.options.concurrency ?? DEFAULT_ARCHIVE_CONCURRENCY);
    for (let from = 0; from < due.length; from += parallel) {
      const outcomes = await Promise.all(due.slice(from, from + parallel).map((conversationId) => this.claimAndArchive(conversationId, now)));
      for (const { outcome } of outcomes) {
        report[outcome]++;
        this.deps.observer?.archiveTried(outcome);
      }
      // The archive is down: the rest of the batch would fail the same way; they stay due for the next round.
      if (outcomes.some((o) => o.archiveDown)) break;
    }
    return report;
  }

  /** Claims an entry (pushed ahead, so another gateway's round does not take it meanwhile, and a crash leaves it due again then), and archives it. */
  private async claimAndArchive(conversationId: string, now: number): Promise<{ outcome: ArchiveOutcome; archiveDown: boolean }> {
    const claimedAt = now + retryDelayMs((this.failures.get(conversationId) ?? 0) + 1);
    await this.deps.redis.zadd(this.deps.keys.archivePending, 'XX', claimedAt, conversationId);
    try {
      return { outcome: await this.archiveOne(conversationId, now, claimedAt), archiveDown: false };
    } catch (error) {
      const count = (this.failures.get(conversationId) ?? 0) + 1;
      if (this.failures.size > 10_000) this.failures.clear();
      this.failures.set(conversationId, count);
      this.deps.logger.warn({ conversationId, attempt: count, retryInMs: claimedAt - now, error: toErrorJson(error) }, 'archiving a conversation failed; it stays queued and is tried again');
      return { outcome: 'failed', archiveDown: isHandoffError(error) && error.code === ErrorCode.ARCHIVE_UNAVAILABLE };
    }
  }

  /** Archives one claimed conversation; throws when it could not (the entry stays, due at `claimedAt`). */
  private async archiveOne(conversationId: string, now: number, claimedAt: number): Promise<ArchiveOutcome> {
    const { archive, store, events, redis, keys, logger } = this.deps;
    const { conversation, ...read } = await readFinishedConversation(store, events, conversationId, now);
    if (!conversation) {
      // Running again (revived: its next end queues it anew), or gone from Redis (nothing left to write).
      if ('reason' in read && read.reason === 'gone') logger.warn({ conversationId }, 'conversation left Redis before it was archived');
      await releaseArchiveEntry(redis, keys, conversationId, claimedAt);
      this.failures.delete(conversationId);
      return 'skipped';
    }
    await archive.save(conversation);
    // Only the conversation that was written loses its keys early: one revived since the read keeps them.
    const retention = await shortenArchivedRetention(redis, keys, conversationId, conversation.record.version, this.keepSeconds);
    // An end queued since the claim (revived and ended again) keeps the entry: that end is archived next.
    await releaseArchiveEntry(redis, keys, conversationId, claimedAt);
    this.failures.delete(conversationId);
    logger.debug({ conversationId, version: conversation.record.version, retention }, 'conversation archived');
    return 'archived';
  }
}

/** The wait before try `attempt` + 1 after `attempt` failures: doubling from 1 s, at most 60 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(MAX_ARCHIVE_RETRY_DELAY_MS, ARCHIVE_RETRY_BASE_MS * 2 ** Math.max(0, Math.min(attempt - 1, 16)));
}
