// Selecting a conversation: makes it the one shown in the detail panel and on the graph, and
// starts following it (status record first, then its event stream).

import { newDetail } from './conversation-detail.js';
import { renderConversationList } from './conversation-list.js';
import { refreshStatus, startStream, stopStream } from './conversation-sync.js';
import { scheduleRender } from './conversation-view.js';
import { $ } from './dom.js';
import { conversations, details, keepDetail, state, upsertSummary } from './state.js';

/** Shows the conversation `id` (from the list, by id, a link or a start) and follows it; selecting it again refreshes it. */
export function selectConversation(id) {
  if (!id) return;
  if (state.selectedId === id) {
    void refreshStatus();
    return;
  }
  stopStream();
  state.selectedId = id;
  const detail = details.get(id) ?? newDetail(id);
  keepDetail(detail);
  detail.rebuild = true;
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  if (!conversations.has(id)) upsertSummary({ conversationId: id, status: 'starting', path: [], updatedAt: Date.now() });
  renderConversationList();
  scheduleRender();
  void refreshStatus()
    .catch(() => undefined)
    .then(() => startStream(detail));
}
