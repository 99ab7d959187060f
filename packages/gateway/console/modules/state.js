// The page's shared state: the network as last read, the conversation summaries the list shows,
// the details of the conversations opened, and which one is selected. Bounded: at most
// MAX_CONVERSATIONS summaries and MAX_DETAILS details are kept.

const MAX_CONVERSATIONS = 500;
const MAX_DETAILS = 8;

/** The statuses a conversation does not leave. */
export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** `network`: the last `GET /v1/agents` answer; `selectedId`: the selected conversation's id, or null. */
export const state = { network: null, selectedId: null };

/** Summaries by id (at most MAX_CONVERSATIONS; the least recently updated go first). */
export const conversations = new Map();

/** Details (see conversation-detail.js) by id, least recently selected first. */
export const details = new Map();

/** The selected conversation's detail, if any. */
export const selectedDetail = () => (state.selectedId ? details.get(state.selectedId) : undefined);

/** Merges `summary` into the conversation's summary (adding it when new). */
export function upsertSummary(summary) {
  const previous = conversations.get(summary.conversationId);
  conversations.set(summary.conversationId, { ...previous, ...summary });
}

/** Drops the least recently updated summaries beyond MAX_CONVERSATIONS (never the selected one's). */
export function trimConversations() {
  if (conversations.size <= MAX_CONVERSATIONS) return;
  const oldest = [...conversations.values()].sort((a, b) => (a.updatedAt ?? 0) - (b.updatedAt ?? 0));
  for (const c of oldest) {
    if (conversations.size <= MAX_CONVERSATIONS) break;
    if (c.conversationId !== state.selectedId) conversations.delete(c.conversationId);
  }
}

/** Keeps `detail` as the most recently selected, dropping the least recently selected beyond MAX_DETAILS. */
export function keepDetail(detail) {
  details.delete(detail.id);
  details.set(detail.id, detail);
  for (const old of details.keys()) {
    if (details.size <= MAX_DETAILS) break;
    if (old !== detail.id) details.delete(old);
  }
}
