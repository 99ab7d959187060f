// The dead-letter view: jobs that could not be processed, newest first, in a virtualized list;
// a row shows its full record, its "Replay" button puts the payload back on its queue, and its
// "open" link opens the conversation it belongs to. The tab's badge counts them.

import { api, post } from './api.js';
import { $, h, toast } from './dom.js';
import { clip } from './format.js';
import { VirtualList } from './virtual-list.js';

const MAX_DEAD_LETTERS = 500;

let deadLetterList;
let onOpen;

/** Creates the list; `onOpen(id)` opens a dead letter's conversation. */
export function initDeadLetters(options) {
  onOpen = options.onOpen;
  deadLetterList = new VirtualList($('dl-list'), 40, (row, letter) => {
    row.dataset.id = letter.id;
    const conversation = h('span', 'mono', letter.conversationId ?? '—');
    if (letter.conversationId) {
      const open = h('button', 'link', 'open');
      open.dataset.open = letter.conversationId;
      conversation.append(' ', open);
    }
    const replay = h('button', '', 'Replay');
    replay.dataset.replay = letter.id;
    row.replaceChildren(
      h('span', '', new Date(letter.deadAt).toLocaleString()),
      h('span', 'mono', `${letter.sourceQueue} / ${letter.jobId ?? '—'}`),
      conversation,
      h('span', 'err', `${letter.error?.code ?? ''}: ${letter.error?.message ?? ''}`),
      replay,
    );
    row.title = letter.payloadPreview ?? '';
  }, (letter, event) => void onDeadLetterClick(letter, event));
}

/** A click on a row: replay, open its conversation, or show its full record. */
async function onDeadLetterClick(letter, event) {
  const target = event.target;
  if (target.dataset?.replay) {
    target.disabled = true;
    try {
      const replayed = await post(`dead-letters/${encodeURIComponent(letter.id)}/replay`);
      toast(`Replayed ${letter.id} as job ${replayed.jobId}.`);
    } catch (error) {
      toast(`Replay failed: ${error.message}`, true);
    } finally {
      target.disabled = false;
      await pollDeadLetters().catch(() => undefined);
    }
    return;
  }
  if (target.dataset?.open) {
    onOpen(target.dataset.open);
    return;
  }
  const full = await api(`dead-letters/${encodeURIComponent(letter.id)}`).catch((error) => ({ error: error.message }));
  $('dl-payload').hidden = false;
  $('dl-payload').textContent = clip(JSON.stringify(full, null, 2), 200_000);
}

function setDeadLetterCount(total) {
  $('dl-count').hidden = !total;
  $('dl-count').textContent = String(total);
}

/** Reads the newest dead letters (at most MAX_DEAD_LETTERS) into the list, and their count into the badge. */
export async function pollDeadLetters() {
  const { deadLetters, total } = await api(`dead-letters?limit=${MAX_DEAD_LETTERS}`);
  setDeadLetterCount(total);
  $('dl-total').textContent = total > deadLetters.length ? `(newest ${deadLetters.length} of ${total})` : `(${total})`;
  deadLetterList.setItems(deadLetters);
}

/** Reads only the number of dead letters, into the badge (while the view is not shown). */
export async function pollDeadLetterCount() {
  const { total } = await api('dead-letters?limit=1');
  setDeadLetterCount(total);
}
