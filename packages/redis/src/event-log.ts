import type { RedisClient } from './connection.js';
import { withSmallScripts } from './small-scripts.js';
import { MAX_EVENTS_PER_CONVERSATION, RuntimeEvent, type KeyLayout, type NewEvent, type StoredEvent } from '@handoff/core';

/** Adds the common fields (conversation id, timestamp) to a new event. */
export function stampEvent(conversationId: string, event: NewEvent, now = Date.now()): RuntimeEvent {
  return { ...event, conversationId, ts: now } as RuntimeEvent;
}

/** Options of {@link EventLog.read}. */
export interface ReadEventsOptions {
  /** Return events after this id; `'0'` (the default) reads from the start. */
  after?: string;
  /** Wait up to this long for a new event when there is none (0: do not wait). */
  blockMs?: number;
  /** Most events to return. @defaultValue 500 */
  count?: number;
}

/**
 * The ordered, replayable event log of each conversation: a Redis Stream, one JSON event per entry,
 * capped at about {@link MAX_EVENTS_PER_CONVERSATION} entries.
 */
export class EventLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
  ) {}

  /** Appends one event; returns its id. */
  async append(conversationId: string, event: NewEvent): Promise<string> {
    const json = JSON.stringify(stampEvent(conversationId, event));
    const id = await this.redis.xadd(this.keys.events(conversationId), 'MAXLEN', '~', MAX_EVENTS_PER_CONVERSATION, '*', 'e', json);
    return id ?? '';
  }

  /** Appends several events in one round trip (one script call), in order. */
  async appendMany(conversationId: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const json = events.map((event) => JSON.stringify(stampEvent(conversationId, event, now)));
    await withSmallScripts(this.redis).handoffAppendEvents(this.keys.events(conversationId), MAX_EVENTS_PER_CONVERSATION, ...json);
  }

  /**
   * Reads events after `options.after`. With `blockMs`, waits for the next event when none is
   * there yet. Use a dedicated connection for blocking reads.
   */
  async read(conversationId: string, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
    const key = this.keys.events(conversationId);
    const after = options.after ?? '0';
    const count = options.count ?? 500;
    const reply =
      options.blockMs !== undefined && options.blockMs > 0
        ? await this.redis.xread('COUNT', count, 'BLOCK', options.blockMs, 'STREAMS', key, after)
        : await this.redis.xread('COUNT', count, 'STREAMS', key, after);
    if (!reply) return [];
    const events: StoredEvent[] = [];
    for (const [, entries] of reply) {
      for (const [id, fields] of entries) {
        const json = fields[1];
        if (json === undefined) continue;
        events.push({ ...RuntimeEvent.parse(JSON.parse(json)), id });
      }
    }
    return events;
  }
}
