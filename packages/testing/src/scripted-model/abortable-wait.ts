/**
 * Waits for a delay, cut short when `signal` aborts.
 *
 * @param ms - milliseconds to wait
 * @param signal - aborts the wait
 * @returns `true` if the full delay passed, `false` if the signal aborted first
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for a promise to settle (fulfilled or rejected), cut short when `signal` aborts.
 *
 * @param promise - the promise to wait for (its rejection is swallowed)
 * @param signal - aborts the wait
 * @returns `true` if the promise settled, `false` if the signal aborted first
 */
export function settledUnlessAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(!signal.aborted);
    };
    promise.then(settle, settle);
  });
}

/**
 * Resolves when `signal` aborts.
 *
 * @param signal - the signal to wait for
 */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
