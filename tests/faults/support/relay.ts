import type { Redis } from 'ioredis';
import { keyLayout, type Message, type RuntimeEvent } from '@handoff/core';
import { EventLog } from '@handoff/redis';
import { lastUserText, systemText, type RecordedRequest, type ScriptRule } from '@handoff/testing';

/**
 * The input that tells the scripted relay how many hops a conversation makes; with `tool`, relay 1
 * first calls `AppendLine` (taking `tool.holdMs` ms in its handler), then goes on.
 */
export function relayInput(id: string, hops: number, tool?: { holdMs: number }): string {
  return `relay id=${id} hops=${hops}${tool ? ` tool=${tool.holdMs}` : ''}`;
}

function plan(req: RecordedRequest): { id: string; hops: number; agent: number; toolHoldMs?: number } | undefined {
  const first = req.body.messages.find((m) => m.role === 'user');
  const text = typeof first?.content === 'string' ? first.content : lastUserText(req) ?? '';
  const match = /relay id=(\S+) hops=(\d+)(?: tool=(\d+))?/.exec(text);
  const agent = /You are relay (\d+)\./.exec(systemText(req) ?? '');
  if (!match || !agent) return undefined;
  return { id: match[1]!, hops: Number(match[2]), agent: Number(agent[1]), ...(match[3] === undefined ? {} : { toolHoldMs: Number(match[3]) }) };
}

/** True when the request is relay 1's first model call of a conversation whose relay 1 calls `AppendLine` (no tool result yet). */
export function isToolAsk(id: string): (req: RecordedRequest) => boolean {
  return (req) => {
    const p = plan(req);
    return p !== undefined && p.id === id && p.agent === 1 && p.toolHoldMs !== undefined && !req.body.messages.some((m) => m.role === 'tool');
  };
}

/** True when the request is relay 1's model call after its `AppendLine` result. */
export function isAfterTool(id: string): (req: RecordedRequest) => boolean {
  return (req) => {
    const p = plan(req);
    return p !== undefined && p.id === id && p.agent === 1 && p.toolHoldMs !== undefined && req.body.messages.some((m) => m.role === 'tool');
  };
}

/** The turn of relay `agent` in a conversation planned for `hops` agents. */
export function relayReply(req: RecordedRequest) {
  const p = plan(req);
  if (!p) return { error: { status: 400, message: 'not a relay request' } };
  if (p.toolHoldMs !== undefined && p.agent === 1 && !req.body.messages.some((m) => m.role === 'tool')) {
    return { content: `appending ${p.id}`, toolCalls: [{ name: 'AppendLine', arguments: { line: p.id, ...(p.toolHoldMs > 0 ? { holdMs: p.toolHoldMs } : {}) } }] };
  }
  if (p.agent < p.hops) return { toolCalls: [{ name: `transfer_to_R${p.agent + 1}`, arguments: { reason: `step ${p.agent}` } }] };
  return { content: `done ${p.id}` };
}

/** Rules that run relay conversations; `latencyMs` slows every answer so faults hit turns in flight. */
export function relayRules(latencyMs = 0): ScriptRule[] {
  return [{ name: 'relay', reply: (req) => ({ ...relayReply(req), ...(latencyMs > 0 ? { delayMs: latencyMs } : {}) }) }];
}

/** True when the request is relay `agent`'s turn of conversation `id`. */
export function isTurnOf(id: string, agent: number): (req: RecordedRequest) => boolean {
  return (req) => {
    const p = plan(req);
    return p !== undefined && p.id === id && p.agent === agent;
  };
}

/**
 * Checks a finished relay conversation against what it must contain: its history is exactly the
 * user's input (then relay 1's `AppendLine` call and result, with `tool`), one transfer call and result per handoff, and the answer — no entry twice — and its
 * log has exactly one agent.completed per hop and one handoff per transfer.
 * @returns the problems found (empty when the transcript is exact).
 */
export async function verifyRelay(redis: Redis, prefix: string, conversationId: string, id: string, hops: number, options: { tool?: boolean } = {}): Promise<string[]> {
  const keys = keyLayout(prefix);
  const problems: string[] = [];
  const history = (await redis.lrange(keys.history(conversationId), 0, -1)).map((raw) => JSON.parse(raw) as Message);
  const expected: string[] = ['user'];
  if (options.tool) expected.push('assistant:AppendLine', 'tool');
  for (let k = 1; k < hops; k++) expected.push(`assistant:transfer_to_R${k + 1}`, 'tool');
  expected.push(`assistant:done ${id}`);
  const actual = history.map((m) =>
    m.role === 'assistant' ? `assistant:${m.tool_calls?.[0]?.function.name ?? m.content}` : m.role,
  );
  if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`history ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
  // The whole log (the stream while it runs, the compacted log once it ended), as readers see it.
  const events: RuntimeEvent[] = [];
  for (let after = '0'; ; ) {
    const batch = await new EventLog(redis, keys).read(conversationId, { after, count: 1_000 });
    if (batch.length === 0) break;
    events.push(...batch);
    after = batch.at(-1)!.id;
  }
  const completed = events.filter((e) => e.type === 'agent.completed').map((e) => (e.type === 'agent.completed' ? e.seq : -1));
  const handoffs = events.filter((e) => e.type === 'handoff').map((e) => (e.type === 'handoff' ? e.seq : -1));
  if (JSON.stringify(completed) !== JSON.stringify(Array.from({ length: hops }, (_, i) => i + 1))) problems.push(`agent.completed seqs ${JSON.stringify(completed)}`);
  if (JSON.stringify(handoffs) !== JSON.stringify(Array.from({ length: hops - 1 }, (_, i) => i + 2))) problems.push(`handoff seqs ${JSON.stringify(handoffs)}`);
  const terminal = events.filter((e) => e.type === 'conversation.completed' || e.type === 'conversation.failed');
  if (terminal.length !== 1) problems.push(`${terminal.length} terminal events`);
  return problems;
}
