// Polling: tasks that run on an interval while the page is visible and has its API key, never
// twice at once, and that can be run at once on demand.

import { AuthError } from './api.js';
import { isKeyNeeded } from './api-key.js';

const pollers = [];

/** Runs `task` every `intervalMs` while `when()` holds, never twice at once; `now()` runs it at once. */
export function every(intervalMs, task, when = () => true) {
  let timer;
  let running = false;
  const run = async () => {
    clearTimeout(timer);
    if (!running && !isKeyNeeded() && !document.hidden && when()) {
      running = true;
      try {
        await task();
      } catch (error) {
        if (!(error instanceof AuthError) && error.status !== 404) console.warn(error);
      } finally {
        running = false;
      }
    }
    timer = setTimeout(run, intervalMs);
  };
  const poller = { now: () => void run() };
  pollers.push(poller);
  void run();
  return poller;
}

/** Runs every poller at once (after a key is entered, or when the page becomes visible again). */
export function pollAllNow() {
  for (const poller of pollers) poller.now();
}
