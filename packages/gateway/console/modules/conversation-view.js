// The selected conversation's panel: its head (id, status, agent, path, stream state, cancel),
// the waiting bar (reply or approve), and its tabs — transcript, timeline, decisions, context and
// raw events. Rendering is batched to one pass per animation frame and redraws only what changed.

import { displayPath } from './conversation-detail.js';
import { refreshConversationRows, syncSummary } from './conversation-list.js';
import { $, h } from './dom.js';
import { clip, clock } from './format.js';
import { updateGraphOverlay } from './graph.js';
import { selectedDetail, state, TERMINAL } from './state.js';
import { renderTimeline } from './timeline.js';
import { renderTranscript } from './transcript.js';
import { VirtualList } from './virtual-list.js';

const TABS = ['transcript', 'timeline', 'decisions', 'context', 'events'];

let renderPending = false;
let activeTab = 'transcript';
let eventList;
let onOpen;

/** Creates the events list and wires the tabs; `onOpen(id)` opens a conversation linked from the transcript. */
export function initConversationView(options) {
  onOpen = options.onOpen;
  eventList = new VirtualList($('event-list'), 24, (row, event) => {
    const { id: _id, conversationId: _c, ts, type, ...rest } = event;
    row.replaceChildren(h('span', 'muted', `${clock(ts)} `), h('span', 't', type), clip(JSON.stringify(rest), 400));
  });
  for (const button of $('detail-tabs').querySelectorAll('button')) {
    button.addEventListener('click', () => {
      activeTab = button.dataset.tab;
      for (const other of $('detail-tabs').querySelectorAll('button')) other.classList.toggle('active', other === button);
      for (const tab of TABS) $(`tab-${tab}`).hidden = tab !== activeTab;
      const detail = selectedDetail();
      if (detail) {
        detail.timelineDirty = detail.decisionsDirty = detail.contextDirty = detail.eventsDirty = true;
        scheduleRender();
      }
    });
  }
}

/** Redraws the selected conversation on the next animation frame (once, however often it is called). */
export function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderDetail();
  });
}

/** Shows whether the selected conversation's event stream is live, connecting, ended or not found. */
export function setStreamLabel(detail) {
  if (detail.id !== state.selectedId) return;
  $('detail-stream').textContent = detail.done ? 'ended' : detail.streaming ? '● live' : detail.notFound ? 'not found' : 'connecting…';
}

function renderDetail() {
  const detail = selectedDetail();
  if (!detail) return;
  renderTranscript(detail, onOpen);

  if (detail.headDirty || detail.rebuild) {
    $('detail-id').textContent = detail.id;
    const status = detail.notFound && !detail.status ? 'not found' : detail.status ?? 'starting';
    $('detail-status').textContent = status.replace('_', ' ');
    $('detail-status').className = `status ${status.replace(' ', '_')}`;
    $('detail-status').dataset.status = status;
    $('detail-agent').textContent = detail.currentAgent ? `${TERMINAL.has(detail.status) ? 'last agent' : 'at'} ${detail.currentAgent}` : '';
    $('detail-path').textContent = displayPath(detail).join(' → ');
    $('cancel-conversation').disabled = TERMINAL.has(detail.status) || detail.notFound || detail.cancelling === true;
    renderWaiting(detail);
    setStreamLabel(detail);
    syncSummary(detail);
    detail.headDirty = false;
  }
  const decisionCount = $('decision-count');
  decisionCount.hidden = detail.decisions.length === 0;
  decisionCount.textContent = String(detail.decisions.length);
  $('event-count').textContent = detail.eventCount ? String(detail.eventCount) : '';
  if (activeTab === 'timeline' && (detail.timelineDirty || detail.rebuild)) renderTimeline(detail);
  if (activeTab === 'decisions' && (detail.decisionsDirty || detail.rebuild)) renderDecisions(detail);
  if (activeTab === 'context' && (detail.contextDirty || detail.rebuild)) $('context-json').textContent = clip(JSON.stringify(detail.context, null, 2), 100_000);
  if (activeTab === 'events' && (detail.eventsDirty || detail.rebuild)) {
    const list = eventList;
    const follow = list.root.scrollTop + list.root.clientHeight >= list.items.length * list.rowHeight - 30;
    list.setItems(detail.events);
    if (follow) list.scrollToEnd();
  }
  if (activeTab === 'timeline') detail.timelineDirty = false;
  if (activeTab === 'decisions') detail.decisionsDirty = false;
  if (activeTab === 'context') detail.contextDirty = false;
  if (activeTab === 'events') detail.eventsDirty = false;
  detail.rebuild = false;
  updateGraphOverlay();
  refreshConversationRows();
}

/** The waiting bar: what the conversation waits for, with the reply form or the approve/reject buttons. */
function renderWaiting(detail) {
  const waiting = detail.status === 'awaiting_user' ? detail.waiting : null;
  $('detail-waiting').hidden = !waiting;
  if (!waiting) return;
  const approval = waiting.kind === 'approval';
  $('approval-form').hidden = !approval;
  $('reply-form').hidden = approval;
  if (approval) {
    $('waiting-text').textContent = `${waiting.agent} waits for approval: ${waiting.calls.map((c) => `${c.name}(${clip(c.arguments, 120)})`).join(', ')}`;
  } else {
    $('waiting-text').textContent = `${waiting.agent} waits for the user${waiting.question ? `: ${waiting.question}` : ''}`;
    const choices = waiting.choices ?? [];
    const select = $('message-agent');
    select.hidden = choices.length === 0;
    if (select.dataset.choices !== choices.join('\n')) {
      select.dataset.choices = choices.join('\n');
      select.replaceChildren(Object.assign(h('option', '', '(same agent)'), { value: '' }), ...choices.map((c) => Object.assign(h('option', '', c), { value: c })));
    }
  }
}

/** The decisions tab: routing decisions, fallbacks, warnings, errors, loop stops and cancellations. */
function renderDecisions(detail) {
  const list = $('decision-list');
  if (detail.decisions.length === 0) {
    list.replaceChildren(h('li', 'muted', 'No routing decisions, fallbacks, loop stops or cancellations in this conversation.'));
    return;
  }
  list.replaceChildren(...detail.decisions.map((d) => {
    const li = h('li');
    li.append(h('span', 'muted', `${clock(d.ts)} `), h('span', `kind ${d.kind.split(' ')[0]}`, d.kind), d.text);
    return li;
  }));
}
