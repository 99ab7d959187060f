// Applying a conversation's events (as its event stream delivers them) to its detail. Bounded:
// at most MAX_EVENTS raw events, MAX_TEXT characters of streamed text per hop and
// MAX_TOOLS_PER_HOP tool calls per hop are kept.

import { addItem, decide, hopOf, note } from './conversation-detail.js';
import { clip } from './format.js';
import { state, TERMINAL, upsertSummary } from './state.js';

const MAX_EVENTS = 1_000;
const MAX_TEXT = 20_000;
const MAX_TOOLS_PER_HOP = 50;
const LOOP_STOPS = new Set(['max_hops_exceeded', 'ping_pong_detected', 'max_visits_exceeded', 'deadline_exceeded', 'token_budget_exceeded']);

/** Applies one event of the conversation's log to its detail. */
export function applyEvent(detail, event) {
  detail.lastEventId = event.id;
  detail.lastEventTs = Math.max(detail.lastEventTs ?? 0, event.ts ?? 0);
  detail.eventCount++;
  detail.events.push(event);
  if (detail.events.length > MAX_EVENTS * 1.2) detail.events.splice(0, detail.events.length - MAX_EVENTS);
  detail.eventsDirty = true;
  detail.headDirty = true;
  switch (event.type) {
    case 'conversation.started':
      detail.entryAgent = event.entryAgent;
      detail.status ??= 'running';
      detail.context = { ...event.context };
      detail.contextDirty = true;
      if (state.network?.routers?.includes(event.entryAgent)) detail.routers.add(event.entryAgent);
      note(detail, `started on ${event.entryAgent}`);
      if (event.input !== undefined) addItem(detail, { kind: 'user', text: clip(event.input, MAX_TEXT), agent: event.entryAgent });
      break;
    case 'agent.started': {
      const hop = hopOf(detail, event);
      if (event.attempt > hop.attempt) {
        hop.attempt = event.attempt;
        hop.text = '';
        hop.tools.clear();
        hop.retried = true;
      }
      hop.agent = event.agent;
      detail.hopAgents.set(event.seq, event.agent);
      detail.currentAgent = event.agent;
      if (!TERMINAL.has(detail.status)) detail.status = 'running';
      detail.dirty.add(hop.item);
      break;
    }
    case 'text.delta': {
      const hop = hopOf(detail, event);
      hop.text += event.text;
      if (hop.text.length > MAX_TEXT) {
        hop.text = hop.text.slice(-MAX_TEXT);
        hop.trimmed = true;
      }
      detail.dirty.add(hop.item);
      break;
    }
    case 'tool.called': {
      const hop = hopOf(detail, event);
      if (hop.tools.size < MAX_TOOLS_PER_HOP) hop.tools.set(event.toolCallId, { name: event.name, args: clip(event.arguments, 2_000), calledAt: event.ts, result: null, isError: false, resultAt: null });
      detail.dirty.add(hop.item);
      break;
    }
    case 'tool.result': {
      // A call approved after its turn parked is answered by the next hop: it names the call's hop.
      const hop = (event.callHopId && detail.hops.get(event.callHopId)) || hopOf(detail, event);
      const call = hop.tools.get(event.toolCallId);
      if (call) Object.assign(call, { result: clip(event.result, 2_000), isError: event.isError, resultAt: event.ts });
      detail.dirty.add(hop.item);
      break;
    }
    case 'agent.completed': {
      const hop = hopOf(detail, event);
      hop.outcome = event.outcome;
      hop.timing = event.timing ?? null;
      detail.timelineDirty = true;
      detail.dirty.add(hop.item);
      break;
    }
    case 'handoff':
      detail.hopAgents.set(event.seq, event.to);
      detail.currentAgent = event.to;
      note(detail, `${event.from} → ${event.to}${event.reason ? `: ${event.reason}` : ''}${event.source ? ` (${event.source.replaceAll('_', ' ')})` : ''}`, 'handoff');
      break;
    case 'routing.decided':
      detail.routers.add(event.router);
      decide(detail, 'routing', `${event.router} (${event.strategy}) → ${event.agent}: ${event.reason}`, event.ts);
      break;
    case 'fallback':
      detail.fallbacks.add(`${event.from}>${event.to}`);
      decide(detail, 'fallback', `${event.from} → ${event.to} (attempt ${event.attempt}) after ${event.error.code}: ${event.error.message}`, event.ts);
      break;
    case 'warning':
      decide(detail, 'warning', event.message, event.ts);
      break;
    case 'error':
      decide(detail, 'error', `${event.agent ? `${event.agent}: ` : ''}${event.error.code}: ${event.error.message}`, event.ts);
      break;
    case 'awaiting.user':
      detail.status = 'awaiting_user';
      detail.waiting = event.waiting;
      note(detail, event.waiting.kind === 'approval' ? `waiting for approval of ${event.waiting.calls.map((c) => c.name).join(', ')}` : `waiting for the user${event.waiting.question ? `: ${event.waiting.question}` : ''}`, 'handoff');
      break;
    case 'user.message':
      detail.status = 'running';
      detail.waiting = null;
      detail.currentAgent = event.agent;
      addItem(detail, { kind: 'user', text: clip(event.text, MAX_TEXT), agent: event.agent });
      break;
    case 'approval.requested':
      note(detail, `${event.agent} asks to run ${event.name}(${clip(event.arguments, 300)})`, 'handoff');
      break;
    case 'approval.decided':
      note(detail, `${event.approved ? 'approved' : 'rejected'} ${event.toolCallId}${event.reason ? `: ${event.reason}` : ''}`, 'handoff');
      detail.waiting = null;
      break;
    case 'nested.started':
      detail.status = 'awaiting_child';
      note(detail, `nested chat ${event.childConversationId} started on ${event.entry} (for ${event.caller}) — open it`, 'handoff', { open: event.childConversationId });
      break;
    case 'nested.awaiting_user':
      note(detail, `nested chat ${event.childConversationId} waits for its user${event.question ? `: ${clip(event.question, 300)}` : ''} — answer it there`, 'handoff', { open: event.childConversationId });
      break;
    case 'nested.completed':
      detail.status = 'running';
      note(detail, `nested chat ${event.childConversationId} ${event.status}: ${clip(event.summary, 300)}`, 'handoff', { open: event.childConversationId });
      break;
    case 'context.updated':
      Object.assign(detail.context, event.patch);
      detail.contextDirty = true;
      note(detail, `${event.agent} set context ${clip(JSON.stringify(event.patch), 300)}`);
      break;
    case 'conversation.completed':
    case 'conversation.failed':
    case 'conversation.cancelled': {
      const result = event.result;
      const status = event.type.slice('conversation.'.length);
      detail.status = status;
      detail.done = true;
      detail.waiting = null;
      detail.output = result.output;
      if (result.path?.length) detail.recordPath = result.path;
      detail.context = result.context ?? detail.context;
      detail.contextDirty = true;
      if (status === 'failed') decide(detail, LOOP_STOPS.has(result.reason) ? 'loop stop' : result.reason === 'all_fallbacks_failed' ? 'fallbacks exhausted' : 'failed', `${result.reason}${result.error ? ` — ${result.error.message}` : ''}`, event.ts);
      if (status === 'cancelled') decide(detail, 'cancelled', result.error?.message ?? 'cancelled', event.ts);
      note(detail, status === 'completed' ? `completed by ${result.agent ?? '?'} (path ${result.path.join(' → ')})` : `${status}: ${result.reason}`, `end-${status}`);
      upsertSummary({ conversationId: detail.id, status, currentAgent: result.agent, path: result.path, terminalReason: result.reason, updatedAt: event.ts });
      break;
    }
    default:
      break;
  }
}
