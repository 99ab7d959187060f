// Polling: tasks that run on an interval while the page is visible and has its API key, never
// twice at once, and that can be run at once on demand. Before a key is entered, one task runs to
// learn whether the gateway wants one; the others start once it answered that it does not.

import { AuthError } from './api.js';
import { claimCall, isKeyNeeded, isNoKeyNeeded, probeAnswered } from './api-key.js';

const pollers = [];

/** Runs `task` every `intervalMs` while `when()` holds, never twice at once; `now()` runs it at once. */
export function every(intervalMs, task, when = () => true) {
  let timer;
  let running = false;
  const run = async () => {
    clearTimeout(timer);
    const claim = !running && !isKeyNeeded() && !document.hidden && when() ? claimCall() : false;
    let wakeOthers = false;
    if (claim) {
      running = true;
      let answered = false;
      try {
        await task();
        answered = true;
      } catch (error) {
        answered = !(error instanceof AuthError) && error.status !== undefined;
        if (!(error instanceof AuthError) && error.status !== 404) console.warn(error);
      } finally {
        running = false;
        if (claim === 'probe') {
          probeAnswered(answered);
          wakeOthers = isNoKeyNeeded();
        }
      }
    }
    timer = setTimeout(run, intervalMs);
    // No key needed: the pollers that waited go now.
    if (wakeOthers) pollAllNow();
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
