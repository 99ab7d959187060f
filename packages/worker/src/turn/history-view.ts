import type { Message } from '@handoff/core';

/**
 * The history as the next agent sees it: transfer tool calls (and their results) of earlier agents
 * are removed, so an agent is not shown tools it does not have (AG2's exclude_transit_message).
 * An assistant message left with neither text nor tool calls is dropped.
 */
export function withoutTransfers(history: readonly Message[], transferTools: ReadonlySet<string>): Message[] {
  const removed = new Set<string>();
  const out: Message[] = [];
  for (const message of history) {
    if (message.role === 'assistant' && message.tool_calls?.length) {
      const kept = message.tool_calls.filter((call) => {
        if (!transferTools.has(call.function.name)) return true;
        removed.add(call.id);
        return false;
      });
      if (kept.length === message.tool_calls.length) out.push(message);
      else if (kept.length > 0) out.push({ ...message, tool_calls: kept });
      else if (message.content) out.push({ role: 'assistant', content: message.content, ...(message.name ? { name: message.name } : {}) });
      continue;
    }
    if (message.role === 'tool' && removed.has(message.tool_call_id)) continue;
    out.push(message);
  }
  return out;
}
