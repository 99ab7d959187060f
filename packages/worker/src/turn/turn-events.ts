import type { Logger } from 'pino';
import { DELTA_FLUSH_CHARS, DELTA_FLUSH_INTERVAL_MS, type NewEvent } from '@handoff/core';
import type { EventLog } from '@handoff/redis';

/**
 * The events one turn writes to its conversation's log, in order. Text deltas are batched — one
 * event per {@link DELTA_FLUSH_INTERVAL_MS} or {@link DELTA_FLUSH_CHARS} — so Redis writes stay
 * bounded however long the output. Writes never block the model stream; {@link TurnEvents.drain}
 * waits for all of them.
 */
export class TurnEvents {
  private chain: Promise<void> = Promise.resolve();
  private pendingText = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly conversationId: string,
    private readonly agent: string,
    private readonly hopId: string,
    private readonly logger: Logger,
  ) {}

  /** Queues one event (after any buffered text). */
  emit(event: NewEvent): void {
    this.flushText();
    this.enqueue(event);
  }

  /** Buffers streamed model text. */
  text(delta: string): void {
    if (delta === '') return;
    this.pendingText += delta;
    if (this.pendingText.length >= DELTA_FLUSH_CHARS) this.flushText();
    else this.timer ??= setTimeout(() => this.flushText(), DELTA_FLUSH_INTERVAL_MS);
  }

  /** Flushes buffered text and waits until every queued event is written. */
  async drain(): Promise<void> {
    this.flushText();
    await this.chain;
  }

  private flushText(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingText === '') return;
    const text = this.pendingText;
    this.pendingText = '';
    this.enqueue({ type: 'text.delta', agent: this.agent, hopId: this.hopId, text });
  }

  private enqueue(event: NewEvent): void {
    this.chain = this.chain
      .then(() => this.log.append(this.conversationId, event))
      .then(
        () => undefined,
        (error: unknown) => this.logger.warn({ err: error, type: event.type }, 'could not write event'),
      );
  }
}
