import type { RedisClient } from './connection.js';
import {
  DEFAULT_EVENT_RETENTION_SECONDS,
  DEFAULT_RETENTION_SECONDS,
  MAX_EVENTS_PER_CONVERSATION,
  PARK_LINGER_MS,
  TERMINAL_EVENT_TYPES,
  TERMINAL_STATUSES,
  messageText,
  MAX_OPERATIONS_REMEMBERED,
  COMMAND_REPLY_TTL_SECONDS,
  CommandReply,
  Message,
  parseBoundary,
  resultOfRecord,
  type ConversationRecord,
  type ConversationResult,
  type ConversationStatus,
  type KeyLayout,
  type NewEvent,
} from '@handoff/core';
import { APPLY_SCRIPT, ApplyOutcome, applyResultFromCode, type ApplyResult } from './apply-script.js';
import { compactEventLog, encodeStoredEvent, idAfter, parseLogLines, type EncodeContext } from './event-codec.js';
import { withSmallScripts } from './small-scripts.js';
import { decodeRecord, encodeRecordFields, hashOfPairs } from './record-codec.js';

/** Times a finishing step prepares its compaction again when events keep arriving meanwhile, before it applies without. */
const COMPACTION_ATTEMPTS = 3;
/** How far back from the end of the history the output of a finished conversation is looked for. */
const OUTPUT_LOOKBACK = 64;

/** One atomic step on a conversation, as the coordinator computes it. */
export interface ApplyStep {
  conversationId: string;
  /** The applied sequence the record must be at; null when the step creates the record. */
  expectedSeq: number | null;
  /**
   * The applied sequence after the step; null for a step that is not a turn (a failure from
   * outside, a cancellation), which keeps the sequence and requires `expectedVersion`.
   */
  newSeq: number | null;
  /** Apply only if the record is at this version (what the step was decided from); null: any. */
  expectedVersion: number | null;
  /** Messages appended to the history. */
  messages: readonly Message[];
  /** Record fields to write (appliedSeq is set from `newSeq`). */
  record: Partial<ConversationRecord>;
  /** Events appended to the log, in order. */
  events: readonly NewEvent[];
  /**
   * What the step does to the conversation's lifetime: `parked` (it ended, or waits for the user:
   * result waiters wake, and its keys expire after the retention period — its event log, once it
   * ended, after the event retention, compacted), `revived` (a parked conversation continues: its
   * keys are kept again), or `active` (neither).
   */
  lifecycle: 'active' | 'parked' | 'revived';
  /** The command this step applies (recorded with it, so a second delivery is known as applied). */
  operationId?: string;
  /**
   * For a step that parks: the result its waiters are told with the wake-up (published with the
   * record's new version), so they need not read the record. Without it they are told only to read.
   */
  parkedResult?: ConversationResult;
}

/** How far a conversation has got. */
export interface Progress {
  status: ConversationStatus;
  appliedSeq: number;
  /** The record's incarnation, where the read includes it. */
  epoch?: string;
}

/** Options of {@link ConversationStore}. */
export interface ConversationStoreOptions {
  /** Seconds finished conversations (record, history) are kept. @defaultValue 7 days */
  retentionSeconds?: number;
  /**
   * Seconds the event log of a finished conversation is kept (at most `retentionSeconds`); after
   * it, a replay of the conversation yields only its terminal event, rebuilt from the record.
   * @defaultValue 1 day
   */
  eventRetentionSeconds?: number;
}

type ApplyCommand = (
  record: string,
  history: string,
  events: string,
  done: string,
  ops: string,
  starting: string,
  finishedEvents: string,
  turnResult: string,
  ...args: (string | number)[]
) => Promise<number>;

/**
 * The conversations' state in Redis: the record (a hash), the history (a list) and, through
 * {@link ApplyStep}s, the event log. Every write that the coordinator makes per turn is one atomic
 * {@link ConversationStore.apply}.
 */
export class ConversationStore {
  private readonly retentionSeconds: number;
  private readonly eventRetentionSeconds: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    options: ConversationStoreOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    this.eventRetentionSeconds = Math.max(1, Math.min(options.eventRetentionSeconds ?? DEFAULT_EVENT_RETENTION_SECONDS, this.retentionSeconds));
    if (!(redis as unknown as { handoffApply?: unknown }).handoffApply) {
      redis.defineCommand('handoffApply', { numberOfKeys: 8, lua: APPLY_SCRIPT });
    }
  }

  /** The record of a conversation, or null if there is none. */
  async read(conversationId: string): Promise<ConversationRecord | null> {
    return (await this.readForOperation(conversationId, undefined)).record;
  }

  /**
   * The record (its output read from the history where it refers to it), and whether a command's
   * operation was applied to it already, in one round trip. Commands check this first: a
   * redelivered command runs the effects of what it did, not itself again.
   */
  async readForOperation(conversationId: string, operationId: string | undefined): Promise<{ record: ConversationRecord | null; applied: boolean }> {
    return readRecordAndOperation(this.redis, this.keys, conversationId, operationId);
  }

  /**
   * Writes the coordinator's answer to a command where its caller waits ({@link waitForReply}).
   * Kept {@link COMMAND_REPLY_TTL_SECONDS}; writing it again (a redelivery) adds a second copy, harmlessly.
   */
  async reply(conversationId: string, reply: CommandReply): Promise<void> {
    const key = this.keys.reply(conversationId, reply.operationId);
    await this.redis.multi().rpush(key, JSON.stringify(reply)).expire(key, COMMAND_REPLY_TTL_SECONDS).exec();
  }

  /**
   * Waits up to `timeoutMs` for the answer to a command, on `blocking` (a connection no one else
   * uses meanwhile). The answer stays for other waiters (the list is rotated, not popped).
   * @returns the answer, or null when none came in time.
   */
  async waitForReply(blocking: RedisClient, conversationId: string, operationId: string, timeoutMs: number): Promise<CommandReply | null> {
    const key = this.keys.reply(conversationId, operationId);
    const raw = await waitOnList(blocking, key, timeoutMs);
    return raw === null ? null : parseBoundary(CommandReply, JSON.parse(raw), 'Command reply');
  }

  /**
   * Removes the starting mark when it is the one of the start `operationId` names — a start found
   * applied already (a duplicate, or its mark written again after a lost reply) leaves no mark
   * behind. @returns true when removed.
   */
  async clearStartingMark(conversationId: string, operationId: string): Promise<boolean> {
    return (await withSmallScripts(this.redis).handoffClearStartMark(this.keys.starting(conversationId), operationId)) === 1;
  }

  /** True while the starting mark is the one of the start `operationId` names. */
  async isStartingWith(conversationId: string, operationId: string): Promise<boolean> {
    const mark = await this.redis.get(this.keys.starting(conversationId));
    return mark !== null && (mark === operationId || mark.includes(`"operationId":"${operationId}"`));
  }

  /** True when the conversation exists or its start is queued (one call: both keys share its slot). */
  async existsOrStarting(conversationId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.conversation(conversationId), this.keys.starting(conversationId))) > 0;
  }

  /** True while a start command of the conversation is queued and not yet applied. */
  async isStarting(conversationId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.starting(conversationId))) === 1;
  }

  /** Just the status and applied sequence (one small read; event readers use it while they wait). */
  async readProgress(conversationId: string): Promise<Progress | null> {
    const [status, appliedSeq] = await this.redis.hmget(this.keys.conversation(conversationId), 'status', 'appliedSeq');
    if (status === null || status === undefined || appliedSeq === null || appliedSeq === undefined) return null;
    return { status: status as ConversationStatus, appliedSeq: Number(appliedSeq) };
  }

  /**
   * What a worker reads before a turn, in one round trip: the conversation's progress, and the
   * raw history entries from index `from` up to (not including) `to`.
   */
  async readTurnInput(conversationId: string, from: number, to: number): Promise<{ progress: Progress | null; entries: string[] }> {
    const reply = await withSmallScripts(this.redis).handoffReadTurnInput(this.keys.conversation(conversationId), this.keys.history(conversationId), from, to - 1);
    const [status, appliedSeq, epoch, ...rest] = reply;
    const entries = rest as string[];
    const progress = status && appliedSeq ? { status: status as ConversationStatus, appliedSeq: Number(appliedSeq), epoch: epoch ?? '' } : null;
    return { progress, entries };
  }

  /** The last `count` messages of a conversation's history, oldest first. */
  async tail(conversationId: string, count: number): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), -count, -1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry -${count - index}`));
  }

  /** `count` history entries from index `from`, oldest first. */
  async range(conversationId: string, from: number, count: number): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), from, from + count - 1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry ${from + index}`));
  }

  /** The whole history of a conversation, oldest first. */
  async history(conversationId: string): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), 0, -1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry ${index}`));
  }

  /**
   * Applies one step atomically; see {@link ApplyOutcome} for what can come back. A step that ends
   * the conversation also compacts its event log (see `event-codec.ts`): the stream and history are
   * read first, and the step applies only if the stream has not changed meanwhile — else it is
   * prepared again (and, after a few tries, applied without compaction).
   */
  async apply(step: ApplyStep): Promise<ApplyResult> {
    const id = step.conversationId;
    const record = step.record as ConversationRecord;
    const ends = step.lifecycle === 'parked' && record.status !== undefined && TERMINAL_STATUSES.has(record.status);
    const context: EncodeContext = {};
    if (step.expectedSeq === null && step.newSeq !== null) context.startMessages = step.messages;
    if (step.expectedSeq !== null && step.newSeq !== null && record.historyLength !== undefined) {
      context.turnMessages = { seq: step.newSeq, from: record.historyLength - step.messages.length, count: step.messages.length };
    }
    if (record.conversationId !== undefined && record.status !== undefined) context.record = record;
    const events = step.events.map((e) => encodeStoredEvent(id, e, context));
    const messages = step.messages.map((m) => JSON.stringify(m));
    const terminalIndex = step.events.findIndex((e) => TERMINAL_EVENT_TYPES.has(e.type)) + 1;
    const fields = encodeRecordFields(step.record);
    const parkedResult = step.lifecycle === 'parked' && step.parkedResult ? JSON.stringify(step.parkedResult) : '';
    for (let attempt = 0; ; attempt++) {
      const compaction = ends && attempt < COMPACTION_ATTEMPTS ? await this.prepareCompaction(id, messages, events, record.output ?? null) : null;
      const revival = step.lifecycle === 'revived' && attempt < COMPACTION_ATTEMPTS ? await this.prepareRevival(id) : null;
      const args: (string | number)[] = [
        step.expectedSeq === null ? '' : step.expectedSeq,
        step.newSeq === null ? '' : step.newSeq,
        MAX_EVENTS_PER_CONVERSATION,
        step.lifecycle === 'parked' ? this.retentionSeconds : step.lifecycle === 'revived' ? -1 : 0,
        step.expectedVersion === null ? '' : step.expectedVersion,
        step.operationId ?? '',
        MAX_OPERATIONS_REMEMBERED,
        ends ? this.eventRetentionSeconds : 0,
        PARK_LINGER_MS,
        compaction ? compaction.from : '',
        compaction?.outputRef ?? '',
        terminalIndex,
        parkedResult,
        messages.length,
        ...messages,
        fields.length / 2,
        ...fields,
        events.length,
        ...events,
        ...(compaction ? [compaction.lines.length, ...compaction.lines, compaction.lastId, ...compaction.stepEvents] : []),
        ...(revival ? [revival.before, revival.after] : []),
      ];
      const apply = (this.redis as unknown as { handoffApply: ApplyCommand }).handoffApply;
      const keys = this.keys;
      const code = await apply.call(this.redis, keys.conversation(id), keys.history(id), keys.events(id), keys.done(id), keys.ops(id), keys.starting(id), keys.finishedEvents(id), keys.turnResult(id), ...args);
      const result = applyResultFromCode(code);
      if (result.outcome !== ApplyOutcome.LOG_MOVED) return result;
    }
  }

  /**
   * What a step that revives a finished conversation does to its compacted log: the terminal events
   * in it that leave their result to the record (which the revived conversation will change) get it
   * written out. Null when there is nothing to rewrite; else the log as it is and as it becomes (the
   * step applies only if the log has not changed meanwhile).
   */
  private async prepareRevival(conversationId: string): Promise<{ before: string; after: string } | null> {
    const keys = this.keys;
    const log = await this.redis.get(keys.finishedEvents(conversationId));
    if (!log) return null;
    let record: ConversationRecord | null | undefined;
    let changed = false;
    const lines: string[] = [];
    for (const line of log.split('\n')) {
      const space = line.indexOf(' ');
      const json = space > 0 ? line.slice(space + 1) : '';
      if (space > 0 && /^\{"type":"conversation\.(completed|failed|cancelled)"/.test(json)) {
        const fields = JSON.parse(json) as Record<string, unknown>;
        if (fields.result === undefined) {
          record ??= await this.read(conversationId);
          const result = record ? resultOfRecord(record) : null;
          if (result) {
            lines.push(`${line.slice(0, space)} ${JSON.stringify({ ...fields, result })}`);
            changed = true;
            continue;
          }
        }
      }
      lines.push(line);
    }
    return changed ? { before: log, after: lines.join('\n') } : null;
  }

  /**
   * What a step that ends the conversation needs to compact its event log: the stream's entries
   * compacted (made from the stream as it is now: `from` is its last id), the step's events as the
   * log keeps them, and the history index that holds the output. When the log is compacted already
   * (the conversation ended before, and was revived), what is compacted is the stream after it.
   */
  private async prepareCompaction(conversationId: string, messages: readonly string[], events: readonly string[], output: string | null): Promise<{ from: string; lines: string[]; lastId: string; stepEvents: string[]; outputRef: number | null } | null> {
    const keys = this.keys;
    const replies = await this.redis.multi().xrange(keys.events(conversationId), '-', '+').lrange(keys.history(conversationId), 0, -1).get(keys.finishedEvents(conversationId)).exec();
    if (!replies) throw new Error('unreachable: MULTI without EXEC reply');
    for (const [error] of replies) if (error) throw error;
    const [[, stream], [, stored], [, finished]] = replies as [[null, [string, string[]][]], [null, string[]], [null, string | null]];
    // A conversation that finished before (and was revived) has a compacted log already: only the
    // stream's entries after it are compacted now, and added to it.
    const floor = finished ? parseLogLines(conversationId, finished).at(-1)?.[0] : undefined;
    const entries = stream.flatMap(([id, fields]): [string, string][] => (fields[1] === undefined || (floor !== undefined && !idAfter(id, floor)) ? [] : [[id, fields[1]]]));
    const history = [...stored, ...messages];
    const { lines, lastId, stepEvents } = compactEventLog(conversationId, entries, history, events);
    let outputRef: number | null = null;
    if (output !== null) {
      for (let index = history.length - 1; index >= Math.max(0, history.length - OUTPUT_LOOKBACK); index--) {
        let message: Message;
        try {
          message = JSON.parse(history[index]!) as Message;
        } catch {
          continue;
        }
        if (messageText(message) === output) {
          outputRef = index;
          break;
        }
      }
    }
    return { from: stream.at(-1)?.[0] ?? '0-0', lines, lastId, stepEvents, outputRef };
  }
}

/** The record of a conversation and whether an operation is among its recorded ones (the store's and the event log's read). */
export async function readRecordAndOperation(redis: RedisClient, keys: KeyLayout, conversationId: string, operationId: string | undefined): Promise<{ record: ConversationRecord | null; applied: boolean }> {
  const [pairs, entry, position] = await withSmallScripts(redis).handoffReadRecord(keys.conversation(conversationId), keys.history(conversationId), keys.ops(conversationId), operationId ?? '');
  return { record: decodeRecord(hashOfPairs(pairs), entry, conversationId), applied: position !== null };
}

/**
 * Waits up to `timeoutMs` for an entry of a list, without taking it: `BLMOVE` from the list to
 * itself rotates it, so every waiter sees it and the key keeps its TTL. Null when none came.
 */
function waitOnList(blocking: RedisClient, key: string, timeoutMs: number): Promise<string | null> {
  return blocking.blmove(key, key, 'LEFT', 'RIGHT', Math.max(0.01, timeoutMs / 1000));
}
