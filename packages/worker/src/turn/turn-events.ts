import type { Logger } from 'pino';
import { DELTA_FLUSH_CHARS, DELTA_FLUSH_INTERVAL_MS, EVENT_FLUSH_INTERVAL_MS, type NewEvent } from '@handoff/core';
import type { EventLog } from '@handoff/redis';

/**
 * The events one turn writes to its conversation's log, in order, in batches: an event goes out at
 * most {@link EVENT_FLUSH_INTERVAL_MS} after it was emitted, together with those emitted meanwhile;
 * text deltas are batched — one event per {@link DELTA_FLUSH_INTERVAL_MS} or
 * {@link DELTA_FLUSH_CHARS} — so Redis writes stay bounded however long the output. Writes never
 * block the model stream. When the turn ends, {@link TurnEvents.takeRest} hands over what is
 * still unwritten, to go out with the turn result in one call; {@link TurnEvents.drain} instead
 * writes it and waits for all of it.
 */
export class TurnEvents {
  private inFlight: Promise<void> = Promise.resolve();
  private pending: NewEvent[] = [];
  private pendingText = '';
  private timer: NodeJS.Timeout | undefined;
  /** When the scheduled flush fires (ms since epoch). */
  private dueAt = 0;

  constructor(
    private readonly log: EventLog,
    private readonly conversationId: string,
    private readonly agent: string,
    private readonly hopId: string,
    private readonly logger: Logger,
  ) {}

  /** Queues one event (after any buffered text); it is written within {@link EVENT_FLUSH_INTERVAL_MS}. */
  emit(event: NewEvent): void {
    this.bufferText();
    this.pending.push(event);
    this.schedule(EVENT_FLUSH_INTERVAL_MS);
  }

  /** Buffers streamed model text. */
  text(delta: string): void {
    if (delta === '') return;
    this.pendingText += delta;
    if (this.pendingText.length >= DELTA_FLUSH_CHARS) this.flush();
    else this.schedule(DELTA_FLUSH_INTERVAL_MS);
  }

  /**
   * Sends everything queued now, in one call, without waiting. Commands on one connection run in
   * order, so what is sent here lands before anything the caller sends after it.
   */
  private flush(): void {
    const batch = this.takeRest();
    if (batch.length === 0) return;
    const write = this.log.appendMany(this.conversationId, batch).catch((error: unknown) => {
      this.logger.warn({ err: error, events: batch.length }, 'could not write events');
    });
    this.inFlight = Promise.all([this.inFlight, write]).then(() => undefined);
  }

  /**
   * Takes the events not written yet (buffered text included), for the caller to write with
   * something else in one call. Those written before land first (same connection, sent earlier);
   * {@link TurnEvents.written} waits for them.
   */
  takeRest(): NewEvent[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.bufferText();
    const rest = this.pending;
    this.pending = [];
    return rest;
  }

  /** Resolves once every event sent so far is written. */
  written(): Promise<void> {
    return this.inFlight;
  }

  /** Sends what is queued and waits until every event is written. */
  async drain(): Promise<void> {
    this.flush();
    await this.inFlight;
  }

  /** Makes sure a flush happens within `ms`. */
  private schedule(ms: number): void {
    const due = Date.now() + ms;
    if (this.timer && this.dueAt <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }

  private bufferText(): void {
    if (this.pendingText === '') return;
    this.pending.push({ type: 'text.delta', agent: this.agent, hopId: this.hopId, text: this.pendingText });
    this.pendingText = '';
  }
}
