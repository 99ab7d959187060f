import type { RedisClient } from './connection.js';
import { withSmallScripts } from './small-scripts.js';
import { MAX_EVENTS_PER_CONVERSATION, type KeyLayout, type NewEvent, type StoredEvent } from '@handoff/core';
import { encodeStoredEvent, idAfter, parseLogLines, resolveEvents, type ReferenceReader } from './event-codec.js';
import { readRecordAndOperation } from './conversation-store.js';

/** Events per read of {@link EventLog.readAll}: a whole capped log in one round trip. */
const READ_ALL_PAGE = MAX_EVENTS_PER_CONVERSATION;

/** Options of {@link EventLog.read}. */
export interface ReadEventsOptions {
  /** Return events after this id; `'0'` (the default) reads from the start. */
  after?: string;
  /** Wait up to this long for a new event when there is none (0: do not wait). */
  blockMs?: number;
  /** Most events to return. @defaultValue 500 */
  count?: number;
  /** The connection the blocking wait runs on (one no other command shares). @defaultValue the log's own connection */
  blockOn?: RedisClient;
}

/**
 * The ordered, replayable event log of each conversation. While the conversation lives it is a
 * Redis Stream, one JSON event per entry, capped at about {@link MAX_EVENTS_PER_CONVERSATION}
 * entries. When it ends, the coordinator's last step compacts it into a string of `<id> <JSON>`
 * lines (same ids; the streamed text of each turn becomes one delta read back from the history;
 * see `event-codec.ts`) and the stream goes: a finished conversation keeps a few hundred bytes of
 * log instead of a stream's 4 KiB and more. Readers see one log either way.
 */
export class EventLog {
  /**
   * Conversations whose last read came from their stream, with the id their compacted log ends at
   * ('0-0' for none): the next read after that id waits on the stream at once.
   */
  private readonly live = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
  ) {}

  /** Appends one event; returns its id. */
  async append(conversationId: string, event: NewEvent): Promise<string> {
    const id = await this.appendEncoded(conversationId, [encodeStoredEvent(conversationId, event)]);
    return id ?? '';
  }

  /** Appends several events in one round trip (one script call), in order. */
  async appendMany(conversationId: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.appendEncoded(conversationId, events.map((event) => encodeStoredEvent(conversationId, event)));
  }

  private appendEncoded(conversationId: string, json: string[]): Promise<string | null> {
    const keys = this.keys;
    return withSmallScripts(this.redis).handoffAppendEvents(keys.events(conversationId), keys.finishedEvents(conversationId), keys.conversation(conversationId), MAX_EVENTS_PER_CONVERSATION, ...json);
  }

  /** Every event of a conversation's log so far, oldest first, read a page at a time without waiting (bounded by the log's own cap). */
  async readAll(conversationId: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for (let after = '0'; ; ) {
      const batch = await this.read(conversationId, { after, count: READ_ALL_PAGE });
      events.push(...batch);
      // A short page is the end of the log (a finished one comes whole: the cap fits in one page).
      if (batch.length < READ_ALL_PAGE) return events;
      after = batch.at(-1)!.id;
    }
  }

  /**
   * Reads events after `options.after`. With `blockMs`, waits for the next event when none is
   * there yet (unless the conversation is finished and its log compacted: nothing more comes).
   * A blocking read needs a connection no other command shares: the log's own, or `blockOn`.
   *
   * A conversation that was revived after it finished has both: its compacted log (the events up
   * to its first end) and then its stream (the events since), read in that order.
   */
  async read(conversationId: string, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
    const after = options.after ?? '0';
    const count = options.count ?? 500;
    const block = options.blockMs !== undefined && options.blockMs > 0;
    // Where a blocking read waits on the stream from: after `after`, and after the compacted log.
    let from = after;
    let floor = '0-0';
    const known = this.live.get(conversationId);
    if (!(block && known !== undefined && !idAfter(known, after))) {
      const keys = this.keys;
      const reply = await withSmallScripts(this.redis).handoffReadEvents(keys.events(conversationId), keys.finishedEvents(conversationId), keys.conversation(conversationId), after, count);
      if (reply[0] === 1) {
        const [, log, stream, streamFrom, ended] = reply;
        this.live.delete(conversationId);
        const compacted = parseLogLines(conversationId, log).filter(([id]) => idAfter(id, after));
        const entries = [...compacted, ...streamEntries(stream)].slice(0, count);
        if (entries.length > 0 || !block || ended === 1) return this.resolve(conversationId, entries);
        // Revived after it finished, and nothing new yet: wait on its stream, after the compacted log.
        from = streamFrom;
        floor = streamFrom;
      } else if (reply[0] === 2) {
        this.live.delete(conversationId);
        // Finished, and its log past the event retention: the terminal event is what is left (its result is the record's).
        const [, id, status] = reply;
        return idAfter(id, after) ? this.resolve(conversationId, [[id, JSON.stringify({ type: `conversation.${status}` })]]) : [];
      } else {
        const entries = streamEntries(reply[1]);
        if (entries.length > 0 || !block) return this.resolve(conversationId, entries);
      }
    } else {
      floor = known;
    }
    const key = this.keys.events(conversationId);
    const reply = await (options.blockOn ?? this.redis).xread('COUNT', count, 'BLOCK', options.blockMs!, 'STREAMS', key, from);
    const entries = reply ? reply.flatMap(([, stream]) => streamEntries(stream)) : [];
    if (entries.length > 0) this.live.set(conversationId, floor);
    else this.live.delete(conversationId);
    return this.resolve(conversationId, entries);
  }

  private resolve(conversationId: string, entries: readonly (readonly [string, string])[]): Promise<StoredEvent[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return resolveEvents(conversationId, entries, this.references(conversationId));
  }

  /** Reads what stored events refer to: history entries, and the record. */
  private references(conversationId: string): ReferenceReader {
    const { redis, keys } = this;
    return {
      async history(indexes) {
        const pipeline = redis.pipeline();
        for (const index of indexes) pipeline.lindex(keys.history(conversationId), index);
        const replies = (await pipeline.exec()) ?? [];
        const entries = new Map<number, string>();
        replies.forEach(([error, value], i) => {
          if (!error && typeof value === 'string') entries.set(indexes[i]!, value);
        });
        return entries;
      },
      async record() {
        return (await readRecordAndOperation(redis, keys, conversationId, undefined)).record;
      },
    };
  }
}

/** `[id, JSON]` of stream entries (XRANGE/XREAD shape), skipping entries without the event field. */
function streamEntries(entries: readonly [string, string[]][]): [string, string][] {
  const out: [string, string][] = [];
  for (const [id, fields] of entries) {
    const json = fields[1];
    if (json !== undefined) out.push([id, json]);
  }
  return out;
}
