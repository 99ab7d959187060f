import type { RedisClient } from './connection.js';
import { quietErrors } from './connection.js';

/** Options of {@link BlockingPool}. */
export interface BlockingPoolOptions {
  /** Most blocking connections open at once; further waits queue for one. @defaultValue 16 */
  maxConnections?: number;
}

/**
 * A bounded pool of connections for blocking reads (BLMOVE, BLPOP) that would otherwise each
 * open a connection of their own: a caller borrows one for one blocking call and gives it back.
 * Connections are duplicates of `source` and stay open for reuse until {@link BlockingPool.close}.
 */
export class BlockingPool {
  private readonly idle: RedisClient[] = [];
  private readonly waiters: ((connection: RedisClient) => void)[] = [];
  private open = 0;
  private closed = false;
  private readonly maxConnections: number;

  constructor(
    private readonly source: RedisClient,
    options: BlockingPoolOptions = {},
  ) {
    this.maxConnections = options.maxConnections ?? 16;
  }

  /**
   * Runs `use` with a connection of the pool, and the time left of `timeoutMs` once one was free.
   * A connection whose call failed (e.g. Redis went away mid-block) is closed rather than given
   * back, so the next caller gets a sound one.
   * @returns what `use` returned, or `undefined` when no connection was free within `timeoutMs`.
   */
  async with<T>(timeoutMs: number, use: (connection: RedisClient, remainingMs: number) => Promise<T>): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    const connection = await this.acquire(timeoutMs);
    if (!connection) return undefined;
    let healthy = false;
    try {
      const result = await use(connection, Math.max(0, deadline - Date.now()));
      healthy = true;
      return result;
    } finally {
      this.release(connection, healthy);
    }
  }

  private acquire(timeoutMs: number): Promise<RedisClient | undefined> {
    if (this.closed) return Promise.reject(new Error('The blocking connection pool is closed.'));
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.open < this.maxConnections) {
      this.open++;
      return Promise.resolve(quietErrors(this.source.duplicate()));
    }
    return new Promise((resolve) => {
      const waiter = (connection: RedisClient): void => {
        clearTimeout(timer);
        resolve(connection);
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private release(connection: RedisClient, healthy: boolean): void {
    if (!healthy || this.closed) {
      connection.disconnect();
      if (this.closed) return;
      const waiter = this.waiters.shift();
      if (waiter) waiter(quietErrors(this.source.duplicate()));
      else this.open--;
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(connection);
    else this.idle.push(connection);
  }

  /** Closes every idle connection; lent ones close when given back. */
  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.disconnect();
  }
}
