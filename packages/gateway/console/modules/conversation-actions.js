// What the user can do to the selected conversation: cancel it, reply when it waits for the user
// (optionally to another agent), and approve or reject the tool calls it waits on.

import { post } from './api.js';
import { hasStream, startStream } from './conversation-sync.js';
import { scheduleRender } from './conversation-view.js';
import { $, toast } from './dom.js';
import { selectedDetail } from './state.js';

/** Wires the cancel button, the reply form and the approve/reject buttons. */
export function initConversationActions() {
  $('cancel-conversation').addEventListener('click', () => void cancelSelected());
  $('message-send').addEventListener('click', () => void answer('message'));
  $('message-input').addEventListener('keydown', (event) => event.key === 'Enter' && void answer('message'));
  $('approve-button').addEventListener('click', () => void answer('approve'));
  $('reject-button').addEventListener('click', () => void answer('reject'));
}

async function cancelSelected() {
  const detail = selectedDetail();
  if (!detail) return;
  detail.cancelling = true;
  detail.headDirty = true;
  scheduleRender();
  try {
    await post(`conversations/${encodeURIComponent(detail.id)}/cancel`, { reason: 'cancelled from the console' });
    toast('Cancelling…');
  } catch (error) {
    toast(`Cancel failed: ${error.message}`, true);
  } finally {
    detail.cancelling = false;
    detail.headDirty = true;
    scheduleRender();
  }
}

/** Answers a waiting conversation: `kind` is 'message' (the reply form), 'approve' or 'reject'. */
async function answer(kind) {
  const detail = selectedDetail();
  if (!detail) return;
  try {
    if (kind === 'message') {
      const message = $('message-input').value.trim();
      if (!message) return;
      const agent = $('message-agent').value;
      await post(`conversations/${encodeURIComponent(detail.id)}/messages`, agent ? { message, agent } : { message });
      $('message-input').value = '';
    } else {
      await post(`conversations/${encodeURIComponent(detail.id)}/approvals`, { approved: kind === 'approve' });
    }
    detail.status = 'running';
    detail.waiting = null;
    detail.headDirty = true;
    scheduleRender();
    if (!hasStream()) void startStream(detail);
  } catch (error) {
    toast(error.message, true);
  }
}
