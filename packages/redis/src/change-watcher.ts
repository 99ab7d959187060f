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
  /** Resolves with true on a message since the last call, false when `timeoutMs` passed first (or the subscriber reconnected: a message may have been lost meanwhile). */
  next(timeoutMs: number): Promise<boolean>;
  /** True while the subscription is confirmed and its connection up: messages arrive. When false, re-read more often. */
  live(): boolean;
  /** The last message received on the channel since this watch began (what it says is the publisher's; a hint until checked). */
  lastMessage(): string | undefined;
  /** Stops watching (unsubscribes when it was the channel's last watch). */
  close(): void;
}

interface Watcher {
  signalled: boolean;
  message?: string;
  wake?: () => void;
}

interface ChannelEntry {
  watchers: Set<Watcher>;
  subscribed: Promise<void>;
  confirmed: boolean;
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
  /** Each watched channel: its watches, its subscription (settled once confirmed or timed out), and whether Redis confirmed it. */
  private readonly channels = new Map<string, ChannelEntry>();
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
      const created: ChannelEntry = { watchers: new Set(), subscribed: Promise.resolve(), confirmed: false };
      created.subscribed = this.subscribe(channel, created);
      this.channels.set(channel, created);
      entry = created;
    }
    entry.watchers.add(watcher);
    await entry.subscribed;
    const watched = entry;
    return {
      next: (timeoutMs) => this.next(watcher, timeoutMs),
      live: () => watched.confirmed && this.subscriber?.status === 'ready',
      lastMessage: () => watcher.message,
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
      subscriber.on('message', (channel: string, message: string) => this.signal(channel, message));
      // (Re)connected: subscribe what is not confirmed yet (ioredis re-subscribes only what was),
      // and wake every watch to re-read — a message published while it was away is lost.
      subscriber.on('ready', () => {
        for (const [channel, entry] of this.channels) {
          if (!entry.confirmed) void this.subscribe(channel, entry);
          for (const watcher of entry.watchers) watcher.wake?.();
        }
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private async subscribe(channel: string, entry: ChannelEntry): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SUBSCRIBE_TIMEOUT_MS);
    });
    // A subscription that fails is tried again when the connection is next ready; until then the
    // watch is not live, and its waiter re-reads often.
    const subscribing = this.connection()
      .subscribe(channel)
      .then(() => {
        entry.confirmed = this.channels.get(channel) === entry;
      })
      .catch(() => undefined);
    await Promise.race([subscribing, timeout]);
    clearTimeout(timer);
  }

  private signal(channel: string, message: string): void {
    for (const watcher of this.channels.get(channel)?.watchers ?? []) {
      watcher.signalled = true;
      watcher.message = message;
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
