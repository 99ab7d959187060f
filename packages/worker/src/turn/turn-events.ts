import type { Logger } from 'pino';
import { DELTA_FLUSH_CHARS, DELTA_FLUSH_INTERVAL_MS, type NewEvent } from '@handoff/core';
import type { EventLog } from '@handoff/redis';

/**
 * The events one turn writes to its conversation's log, in order. Events emitted in the same tick
 * go out together in one pipeline; text deltas are batched — one event per
 * {@link DELTA_FLUSH_INTERVAL_MS} or {@link DELTA_FLUSH_CHARS} — so Redis writes stay bounded
 * however long the output. Writes never block the model stream; {@link TurnEvents.drain} waits
 * for all of them.
 */
export class TurnEvents {
  private inFlight: Promise<void> = Promise.resolve();
  private pending: NewEvent[] = [];
  private flushScheduled = false;
  private pendingText = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly conversationId: string,
    private readonly agent: string,
    private readonly hopId: string,
    private readonly logger: Logger,
  ) {}

  /** Queues one event (after any buffered text); it is sent at the end of this tick. */
  emit(event: NewEvent): void {
    this.bufferText();
    this.pending.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Buffers streamed model text. */
  text(delta: string): void {
    if (delta === '') return;
    this.pendingText += delta;
    if (this.pendingText.length >= DELTA_FLUSH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), DELTA_FLUSH_INTERVAL_MS);
  }

  /**
   * Sends everything queued now, in one pipeline, without waiting. Commands on one connection run
   * in order, so what is sent here lands before anything the caller sends after it.
   */
  flush(): void {
    this.flushScheduled = false;
    this.bufferText();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const write = this.log.appendMany(this.conversationId, batch).catch((error: unknown) => {
      this.logger.warn({ err: error, events: batch.length }, 'could not write events');
    });
    this.inFlight = Promise.all([this.inFlight, write]).then(() => undefined);
  }

  /** Sends what is queued and waits until every event is written. */
  async drain(): Promise<void> {
    this.flush();
    await this.inFlight;
  }

  private bufferText(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingText === '') return;
    this.pending.push({ type: 'text.delta', agent: this.agent, hopId: this.hopId, text: this.pendingText });
    this.pendingText = '';
  }
}
