import type { RedisClient } from './connection.js';
import { quietErrors } from './connection.js';

/** How long {@link ChangeWatcher.watch} waits for Redis to confirm a subscription before the watch falls back to its re-check interval alone. */
const SUBSCRIBE_TIMEOUT_MS = 2_000;

/**
 * One watch on one channel: {@link Watch.next} resolves at the next message on the channel, or
 * after a time; a message that came between two `next` calls is not lost (the next call returns at
 * once). Close it when done.
 */
export interface Watch {
  /** Resolves with true on a message since the last call, false when `timeoutMs` passed first. */
  next(timeoutMs: number): Promise<boolean>;
  /** Stops watching (unsubscribes when it was the channel's last watch). */
  close(): void;
}

interface Watcher {
  signalled: boolean;
  wake?: () => void;
}

/**
 * Many waits on one connection: every watch of a process shares one Redis subscriber connection
 * (pub/sub), subscribed to each channel while someone watches it — instead of a blocking connection
 * per waiting call. A published message is a hint, not the state: a watcher re-reads what it waits
 * for after each `next`, and re-reads it anyway every so often, since a message published while
 * the subscriber was reconnecting is lost.
 */
export class ChangeWatcher {
  private subscriber: RedisClient | undefined;
  /** Each watched channel: its watches, and its subscription (settled once confirmed or timed out). */
  private readonly channels = new Map<string, { watchers: Set<Watcher>; subscribed: Promise<void> }>();
  private closed = false;

  constructor(private readonly source: RedisClient) {}

  /**
   * Watches `channel`. Resolves once Redis confirmed the subscription (so a message published
   * after this resolves is seen), or after {@link SUBSCRIBE_TIMEOUT_MS} when Redis does not answer
   * (the watch then wakes on its timeouts only).
   */
  async watch(channel: string): Promise<Watch> {
    if (this.closed) throw new Error('The change watcher is closed.');
    const watcher: Watcher = { signalled: false };
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { watchers: new Set(), subscribed: this.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.watchers.add(watcher);
    await entry.subscribed;
    return {
      next: (timeoutMs) => this.next(watcher, timeoutMs),
      close: () => this.remove(channel, watcher),
    };
  }

  /** Closes the subscriber connection; open watches then wake on their timeouts only. */
  close(): void {
    this.closed = true;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    for (const { watchers } of this.channels.values()) for (const watcher of watchers) watcher.wake?.();
    this.channels.clear();
  }

  private connection(): RedisClient {
    if (!this.subscriber) {
      const subscriber = quietErrors(this.source.duplicate());
      subscriber.on('message', (channel: string) => this.signal(channel));
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private async subscribe(channel: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SUBSCRIBE_TIMEOUT_MS);
    });
    // A subscription that fails is retried by ioredis on reconnect (it resubscribes every channel);
    // until then the watch wakes on its timeouts.
    await Promise.race([this.connection().subscribe(channel).catch(() => undefined), timeout]);
    clearTimeout(timer);
  }

  private signal(channel: string): void {
    for (const watcher of this.channels.get(channel)?.watchers ?? []) {
      watcher.signalled = true;
      watcher.wake?.();
    }
  }

  private next(watcher: Watcher, timeoutMs: number): Promise<boolean> {
    if (watcher.signalled || this.closed) {
      const signalled = watcher.signalled;
      watcher.signalled = false;
      return Promise.resolve(signalled);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), Math.max(0, timeoutMs));
      const finish = (): void => {
        clearTimeout(timer);
        watcher.wake = undefined;
        const signalled = watcher.signalled;
        watcher.signalled = false;
        resolve(signalled);
      };
      watcher.wake = finish;
    });
  }

  private remove(channel: string, watcher: Watcher): void {
    watcher.wake?.();
    const watchers = this.channels.get(channel)?.watchers;
    if (!watchers?.delete(watcher) || watchers.size > 0) return;
    this.channels.delete(channel);
    void this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }
}
