/** A pending `waitForRequests` call. */
interface Waiter {
  readonly n: number;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Promises that resolve once a request count reaches a target. */
export class RequestWaiters {
  #waiters: Waiter[] = [];

  /**
   * Resolves once {@link RequestWaiters.notify} reports at least `n` requests.
   *
   * @param n - target count
   * @param current - the count now
   * @param timeoutMs - reject after this long
   * @param describe - makes the timeout message (given the count at that moment)
   */
  wait(n: number, current: number, timeoutMs: number, describe: () => string): Promise<void> {
    if (current >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(describe()));
      }, timeoutMs);
      timer.unref?.();
      const waiter: Waiter = { n, resolve, timer };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves every waiter whose target `count` reaches. */
  notify(count: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (count >= w.n) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        still.push(w);
      }
    }
    this.#waiters = still;
  }
}
