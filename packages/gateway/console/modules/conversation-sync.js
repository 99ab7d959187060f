// Keeps the selected conversation's detail in step with the gateway: follows its event stream
// (Server-Sent Events, resumed after the last event seen, one stream open at a time) and reads its
// status record.

import { api, apiUrl, askForKeyAfter401, authHeaders } from './api.js';
import { renderConversationList } from './conversation-list.js';
import { applyEvent } from './conversation-events.js';
import { scheduleRender, setStreamLabel } from './conversation-view.js';
import { readSse } from './sse.js';
import { selectedDetail, state, TERMINAL, upsertSummary } from './state.js';

/** The open event stream: `{ id, controller }`, or null. */
let stream = null;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether an event stream is open. */
export const hasStream = () => stream !== null;

/** Closes the open event stream, if any. */
export function stopStream() {
  stream?.controller.abort();
  stream = null;
}

/** Follows the selected conversation's events (resuming after the last one seen) until it ends. */
export async function startStream(detail) {
  if (detail.id !== state.selectedId || detail.done || stream?.id === detail.id) {
    setStreamLabel(detail);
    return;
  }
  const controller = new AbortController();
  const mine = { id: detail.id, controller };
  stream = mine;
  let backoff = 500;
  let notFoundSince = null;
  while (!controller.signal.aborted && !detail.done) {
    try {
      const extra = { accept: 'text/event-stream' };
      if (detail.lastEventId) extra['last-event-id'] = detail.lastEventId;
      const response = await fetch(apiUrl(`conversations/${encodeURIComponent(detail.id)}/events`), { headers: authHeaders(extra), signal: controller.signal });
      if (response.status === 401) {
        askForKeyAfter401();
        break;
      }
      if (response.status === 404) {
        // A conversation just started may not be applied yet; give it a moment before giving up.
        notFoundSince ??= Date.now();
        detail.notFound = Date.now() - notFoundSince > 5_000;
        detail.headDirty = true;
        scheduleRender();
        await sleep(detail.notFound ? 5_000 : 300);
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      detail.notFound = false;
      detail.streaming = true;
      setStreamLabel(detail);
      let received = 0;
      await readSse(response.body, (id, _type, data) => {
        if (stream !== mine) return;
        received++;
        try {
          applyEvent(detail, { ...JSON.parse(data), id });
        } catch (error) {
          console.warn('bad event', error);
        }
        scheduleRender();
      });
      // The server ends a stream at the conversation's end; one that ends early is resumed, slower each time it brings nothing.
      if (received > 0) backoff = 500;
      else {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    } catch (error) {
      if (controller.signal.aborted) break;
      console.warn('event stream', error);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10_000);
    } finally {
      detail.streaming = false;
    }
  }
  if (stream === mine) stream = null;
  setStreamLabel(detail);
  if (detail.done && detail.id === state.selectedId) void refreshStatus();
}

/** Reads the selected conversation's status record into its detail and the list (a 404 marks it not found). */
export async function refreshStatus() {
  const detail = selectedDetail();
  if (!detail) return;
  try {
    const view = await api(`conversations/${encodeURIComponent(detail.id)}`);
    detail.notFound = false;
    if (!detail.done || TERMINAL.has(view.status)) detail.status = view.status;
    detail.entryAgent = view.entryAgent;
    detail.currentAgent = view.currentAgent ?? detail.currentAgent;
    detail.recordPath = view.path;
    detail.context = view.context;
    detail.contextDirty = true;
    detail.waiting = view.waiting;
    detail.output = view.output;
    detail.headDirty = true;
    upsertSummary({ conversationId: view.conversationId, status: view.status, entryAgent: view.entryAgent, currentAgent: view.currentAgent, path: view.path, terminalReason: view.terminalReason, createdAt: view.createdAt, updatedAt: view.updatedAt });
    renderConversationList();
  } catch (error) {
    if (error.status === 404) {
      detail.notFound = true;
      detail.headDirty = true;
      // Not applied yet (a start still on the coordinator queue) or unknown: the stream will tell.
    } else throw error;
  } finally {
    scheduleRender();
  }
}
