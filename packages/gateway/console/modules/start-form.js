// The "Start a conversation" form: the choice of entry agent (the network's agents and routers),
// the user's message and an optional JSON context.

import { AuthError, post } from './api.js';
import { $, h } from './dom.js';
import { selectConversation } from './selection.js';
import { upsertSummary } from './state.js';

/** Wires the start button (and Ctrl/⌘+Enter in the message box). */
export function initStartForm() {
  $('start-button').addEventListener('click', () => void startConversation());
  $('start-input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void startConversation();
  });
}

/** Fills the agent choice from a `GET /v1/agents` answer (when the agents changed), keeping the current choice. */
export function updateStartAgents(info) {
  const select = $('start-agent');
  const names = [...info.agents.map((a) => a.name), ...(info.routers ?? [])];
  const signature = names.join('\n');
  if (select.dataset.signature === signature) return;
  select.dataset.signature = signature;
  const previous = select.value;
  select.replaceChildren(...names.map((name) => {
    const option = h('option', '', (info.routers ?? []).includes(name) ? `${name} (router)` : name);
    option.value = name;
    return option;
  }));
  select.value = previous && names.includes(previous) ? previous : info.entry;
}

async function startConversation() {
  const input = $('start-input').value.trim();
  const error = $('start-error');
  error.hidden = true;
  if (!input) {
    error.textContent = 'Write the user’s message first.';
    error.hidden = false;
    return;
  }
  const body = { agent: $('start-agent').value || undefined, input };
  const contextText = $('start-context').value.trim();
  if (contextText) {
    try {
      body.context = JSON.parse(contextText);
    } catch {
      error.textContent = 'The context is not valid JSON.';
      error.hidden = false;
      return;
    }
  }
  $('start-button').disabled = true;
  try {
    const { conversationId } = await post('conversations', body);
    upsertSummary({ conversationId, status: 'starting', entryAgent: body.agent ?? null, currentAgent: null, path: [], updatedAt: Date.now() });
    $('start-input').value = '';
    selectConversation(conversationId);
  } catch (e) {
    if (!(e instanceof AuthError)) {
      error.textContent = e.message;
      error.hidden = false;
    }
  } finally {
    $('start-button').disabled = false;
  }
}
