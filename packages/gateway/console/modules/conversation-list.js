// The conversation list in the sidebar: a virtualized list of the known conversations, newest
// update first, with a filter; polled from `GET /v1/conversations` and kept in step with the open
// conversation's own stream.

import { api } from './api.js';
import { summaryOf } from './conversation-detail.js';
import { $, h } from './dom.js';
import { ago } from './format.js';
import { updateGraphOverlay } from './graph.js';
import { conversations, details, state, TERMINAL, trimConversations, upsertSummary } from './state.js';
import { VirtualList } from './virtual-list.js';

const LIST_LIMIT = 200;

let conversationList;

/** Creates the list; `onSelect(id)` runs when a row is clicked. */
export function initConversationList({ onSelect }) {
  conversationList = new VirtualList($('conv-list'), 48, (row, c) => {
    row.className = c.conversationId === state.selectedId ? 'vrow selected' : 'vrow';
    row.dataset.id = c.conversationId;
    row.dataset.status = c.status;
    const l1 = h('div', 'l1');
    const status = h('span', `status ${c.status}`, c.status.replace('_', ' '));
    l1.append(h('span', 'id', c.conversationId), status, h('span', 'when', ago(c.updatedAt)));
    const l2 = h('div', 'l2', c.path?.length ? c.path.join(' → ') : c.entryAgent ?? '');
    if (c.parentConversationId) l2.prepend(h('span', '', '↳ nested · '));
    row.replaceChildren(l1, l2);
  }, (c) => onSelect(c.conversationId));
  $('conv-filter').addEventListener('input', () => renderConversationList());
}

/** Redraws the list from the known summaries, filtered by the filter box, and its counts. */
export function renderConversationList() {
  const filter = $('conv-filter').value.trim().toLowerCase();
  let items = [...conversations.values()].sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
  if (filter) {
    items = items.filter((c) => c.conversationId.toLowerCase().includes(filter) || c.status.includes(filter) || (c.currentAgent ?? '').toLowerCase().includes(filter) || (c.path ?? []).some((a) => a.toLowerCase().includes(filter)));
  }
  const running = items.filter((c) => !TERMINAL.has(c.status)).length;
  $('conv-count').textContent = `${items.length} shown · ${running} live`;
  conversationList.setItems(items);
}

/** Puts `text` in the filter box and redraws the list. */
export function filterConversationList(text) {
  $('conv-filter').value = text;
  renderConversationList();
}

/** Redraws the rows in view (the selection moved, or the "… ago" times aged). */
export function refreshConversationRows() {
  conversationList.schedule();
}

/** Reads the newest conversations from the API into the summaries, and redraws the list and the graph's overlay. */
export async function pollConversations() {
  const { conversations: list } = await api(`conversations?limit=${LIST_LIMIT}`);
  for (const summary of list) {
    const detail = details.get(summary.conversationId);
    // The open conversation's own stream may be fresher than the list.
    if (detail && detail.status && (detail.lastEventTs ?? 0) > summary.updatedAt) Object.assign(summary, summaryOf(detail));
    upsertSummary(summary);
  }
  trimConversations();
  renderConversationList();
  updateGraphOverlay();
}

/** Brings the list's entry of an open conversation up to date with its stream. */
export function syncSummary(detail) {
  const summary = conversations.get(detail.id);
  if (!summary || !detail.status || !detail.lastEventTs) return;
  const next = summaryOf(detail);
  if (summary.status !== next.status || summary.currentAgent !== next.currentAgent || (summary.path?.length ?? 0) !== next.path.length) {
    upsertSummary({ conversationId: detail.id, ...next, updatedAt: Math.max(summary.updatedAt ?? 0, next.updatedAt) });
    renderConversationList();
  }
}
