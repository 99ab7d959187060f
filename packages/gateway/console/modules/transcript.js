// The transcript tab: the open conversation as it happens — each hop with its agent, tool calls
// and streamed text, the user's messages, and one-line notes (handoffs, decisions, the end).
// Entries are built once and updated in place; only changed ones are redrawn.

import { $, h } from './dom.js';
import { ms } from './format.js';

/** The element of a transcript entry, created on first use and brought up to date (hops change as they stream). */
function renderItem(item, onOpen) {
  if (item.kind === 'hop') {
    const hop = item.hop;
    if (!item.el) {
      item.el = h('div', 'item hop');
      item.who = h('div', 'who');
      item.tools = h('div', 'tools');
      item.text = h('div', 'text');
      item.el.append(item.who, item.tools, item.text);
      item.el.dataset.agent = hop.agent;
    }
    item.who.replaceChildren(hop.agent, h('span', 'muted', `hop ${hop.seq}${hop.attempt > 1 ? ` · attempt ${hop.attempt}` : ''}${hop.outcome ? ` · ${hop.outcome}` : ' · working…'}${hop.timing ? ` · ${ms(hop.timing.finishedAt - hop.timing.startedAt)}` : ''}`));
    item.tools.replaceChildren(...[...hop.tools.entries()].map(([id, call]) => {
      const line = h('div', 'tool', `⚙ ${call.name}(${call.args})`);
      line.dataset.toolCallId = id;
      if (call.result !== null) line.append(h('div', call.isError ? 'res err' : 'res', `→ ${call.result}`));
      return line;
    }));
    item.text.textContent = (hop.trimmed ? '…' : '') + hop.text;
    item.el.classList.toggle('has-text', hop.text.length > 0);
  } else if (item.kind === 'user') {
    if (!item.el) {
      item.el = h('div', 'item user');
      item.el.append(h('div', 'who', `User → ${item.agent}`), h('div', 'text', item.text));
    }
  } else if (!item.el) {
    item.el = h('div', `item note ${item.className}`, item.text);
    if (item.open) {
      const link = h('button', 'link', 'open');
      link.addEventListener('click', () => onOpen(item.open));
      item.el.append(' ', link);
    }
  }
  return item.el;
}

/** Brings the transcript tab up to date (all of it on a rebuild, else the changed entries), following the end when scrolled there; `onOpen(id)` opens a linked conversation. */
export function renderTranscript(detail, onOpen) {
  const transcript = $('tab-transcript');
  const atBottom = transcript.scrollTop + transcript.clientHeight >= transcript.scrollHeight - 40;
  if (detail.rebuild || detail.rebuildTrim) {
    const nodes = detail.items.map((item) => renderItem(item, onOpen));
    if (detail.droppedItems) nodes.unshift(h('div', 'item trimmed', `… ${detail.droppedItems} earlier entries not kept`));
    transcript.replaceChildren(...nodes);
    detail.dirty.clear();
    detail.rebuildTrim = false;
  } else {
    for (const item of detail.dirty) {
      const node = renderItem(item, onOpen);
      if (!node.isConnected && detail.items.includes(item)) transcript.append(node);
    }
    detail.dirty.clear();
  }
  if (atBottom || detail.rebuild) transcript.scrollTop = transcript.scrollHeight;
}
