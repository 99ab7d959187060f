import type { RuntimeEvent } from '@handoff/core';

/**
 * One line of plain text for an event, for terminals and logs (text deltas are returned as their
 * raw text, so consecutive ones print as one running answer).
 */
export function describeEvent(event: RuntimeEvent): string {
  switch (event.type) {
    case 'conversation.started':
      return `▶ conversation ${event.conversationId} started on ${event.entryAgent}${event.input === undefined ? '' : `: ${event.input}`}`;
    case 'agent.started':
      return `● ${event.agent} is working (hop ${event.seq}${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}${event.resumed ? `, resumed at model round ${event.resumed.round}: ${event.resumed.modelCalls} model calls and ${event.resumed.toolResults} tool results replayed` : ''})`;
    case 'text.delta':
      return event.text;
    case 'tool.called':
      return `⚙ ${event.agent} calls ${event.name}(${event.arguments})`;
    case 'tool.result':
      return `${event.isError ? '✗' : '↩'} ${event.name} → ${event.result}`;
    case 'agent.completed':
      return `○ ${event.agent} finished its turn (${event.outcome})`;
    case 'handoff':
      return `⇢ handoff ${event.from} → ${event.to}: ${event.reason}`;
    case 'awaiting.user':
      return `? waiting for the user${event.waiting.kind === 'user' && event.waiting.question ? `: ${event.waiting.question}` : ''}`;
    case 'user.message':
      return `» user: ${event.text}`;
    case 'nested.started':
      return `↳ ${event.caller} started a nested chat with ${event.entry} (${event.childConversationId})`;
    case 'nested.completed':
      return `↲ nested chat ${event.childConversationId} ${event.status}: ${event.summary}`;
    case 'nested.awaiting_user':
      return `⏸ nested chat ${event.childConversationId} waits for its user${event.question ? `: ${event.question}` : ''} (answer it there)`;
    case 'approval.requested':
      return `? ${event.agent} asks to run ${event.name}(${event.arguments}) — approve or reject ${event.toolCallId}`;
    case 'approval.decided':
      return `${event.approved ? '✓ approved' : '✗ rejected'} ${event.toolCallId}${event.reason ? `: ${event.reason}` : ''}`;
    case 'routing.decided':
      return `⤳ ${event.router} (${event.strategy}) picked ${event.agent}: ${event.reason}`;
    case 'fallback':
      return `↻ fallback ${event.from} → ${event.to} after ${event.error.code} (attempt ${event.attempt})`;
    case 'warning':
      return `! ${event.message}`;
    case 'conversation.cancelled':
      return `■ cancelled (path ${event.result.path.join(' → ')})`;
    case 'context.updated':
      return `≡ ${event.agent} set ${Object.keys(event.patch).join(', ')}`;
    case 'error':
      return `✗ ${event.error.code}: ${event.error.message}`;
    case 'conversation.completed':
      return `✔ answered by ${event.result.agent ?? '?'} (path ${event.result.path.join(' → ')})`;
    case 'conversation.failed':
      return `✘ ${event.result.reason}: ${event.result.error?.message ?? 'failed'} (path ${event.result.path.join(' → ')})`;
  }
}
