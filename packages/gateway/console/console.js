// The Handoff web console's entry module: wires together the parts in modules/ and starts polling.
// No dependencies, no build step, no backend of its own. Every data call goes through the gateway's
// authenticated /v1 API (REST, and Server-Sent Events read with fetch, because EventSource cannot
// send an Authorization header).
//
// Bounded by design, to stay usable with hundreds of conversations running: lists are virtualized
// (only the visible rows exist in the DOM), the page keeps at most 500 conversation summaries, the
// details of 8 conversations, and per conversation at most 1,000 events, 300 transcript entries and
// 20,000 characters of streamed text per hop (the limits sit in the modules that keep the data).
// One event stream is open at a time (the selected conversation's); the list, the graph and the
// counts come from polling.

import { api, setConnection } from './modules/api.js';
import { initKeyDialog, showForgetKey } from './modules/api-key.js';
import { initConversationActions } from './modules/conversation-actions.js';
import { filterConversationList, initConversationList, pollConversations, refreshConversationRows } from './modules/conversation-list.js';
import { hasStream, refreshStatus, startStream } from './modules/conversation-sync.js';
import { initConversationView } from './modules/conversation-view.js';
import { initDeadLetters, pollDeadLetterCount, pollDeadLetters } from './modules/dead-letters.js';
import { $ } from './modules/dom.js';
import { initGraph, renderGraph } from './modules/graph.js';
import { every, pollAllNow } from './modules/pollers.js';
import { selectConversation } from './modules/selection.js';
import { initStartForm, updateStartAgents } from './modules/start-form.js';
import { selectedDetail, state } from './modules/state.js';

const POLL_AGENTS_MS = 2_000;
const POLL_CONVERSATIONS_MS = 2_000;
const POLL_STATUS_MS = 2_000;
const POLL_DEAD_LETTERS_MS = 5_000;
const POLL_DEAD_LETTER_COUNT_MS = 15_000;

/** The view shown: 'conversations' or 'dead-letters'. */
let view = 'conversations';

/** Reads the network (agents, routers, workers, queues) and redraws the graph and the start form's agents. */
async function pollAgents() {
  const info = await api('agents');
  state.network = info;
  $('network-name').textContent = info.network;
  setConnection('connected', 'ok');
  updateStartAgents(info);
  renderGraph(info);
}

/** Shows one view ('conversations' or 'dead-letters'), and refreshes the dead letters when it is theirs. */
function showView(name) {
  view = name;
  for (const button of $('views').querySelectorAll('button')) button.classList.toggle('active', button.dataset.view === name);
  $('view-conversations').hidden = name !== 'conversations';
  $('view-dead-letters').hidden = name !== 'dead-letters';
  if (name === 'dead-letters') deadLetterPoller.now();
}

initKeyDialog({
  onSaved: () => {
    pollAllNow();
    const detail = selectedDetail();
    if (detail && !hasStream()) void startStream(detail);
  },
});
initGraph({ onAgentClick: filterConversationList });
initConversationList({ onSelect: selectConversation });
initConversationView({ onOpen: selectConversation });
initDeadLetters({
  onOpen: (id) => {
    showView('conversations');
    selectConversation(id);
  },
});
initStartForm();
initConversationActions();
$('open-button').addEventListener('click', () => selectConversation($('open-id').value.trim()));
$('open-id').addEventListener('keydown', (event) => event.key === 'Enter' && selectConversation($('open-id').value.trim()));
$('dl-refresh').addEventListener('click', () => deadLetterPoller.now());
for (const button of $('views').querySelectorAll('button')) button.addEventListener('click', () => showView(button.dataset.view));
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) pollAllNow();
});
setInterval(refreshConversationRows, 5_000); // keeps "… ago" fresh

showForgetKey();
every(POLL_AGENTS_MS, pollAgents);
every(POLL_CONVERSATIONS_MS, pollConversations);
every(POLL_STATUS_MS, refreshStatus, () => {
  const detail = selectedDetail();
  return Boolean(detail && !detail.done);
});
const deadLetterPoller = every(POLL_DEAD_LETTERS_MS, pollDeadLetters, () => view === 'dead-letters');
every(POLL_DEAD_LETTER_COUNT_MS, pollDeadLetterCount, () => view !== 'dead-letters');

// Open a conversation named in the address (#c_…), e.g. a link from a log line.
if (location.hash.length > 1) selectConversation(decodeURIComponent(location.hash.slice(1)));
