import { defineAgent, defineNetwork, type NetworkDefinition } from '@handoff/core';
import type { RecordedRequest, ScriptRule } from '@handoff/testing';
import type { TurnTiming } from '@handoff/core';

/**
 * The one rule both runtimes are benchmarked with: a request that offers tools gets a call of the
 * first tool (the transfer to the next agent), a request with none gets a short final answer.
 */
export const CHAIN_RULES: ScriptRule[] = [
  {
    name: 'hand off to the next agent',
    when: (req) => (req.body.tools?.length ?? 0) > 0,
    reply: (req) => ({ toolCalls: [{ name: req.body.tools?.[0]?.function?.name ?? 'missing_tool', arguments: { reason: 'next' } }] }),
  },
  { name: 'last agent answers', reply: { content: 'done' } },
];

/** A chain A1 → … → An; the model endpoint comes from `baseURL`, or OPENAI_BASE_URL when absent. */
export function chainNetwork(length: number, baseURL?: string): NetworkDefinition {
  const model = { name: 'scripted', maxRetries: 0, ...(baseURL ? { baseURL, apiKey: 'bench' } : {}) };
  return defineNetwork({
    name: `chain-${length}`,
    maxHops: length + 1,
    agents: Array.from({ length }, (_, i) =>
      defineAgent({ name: `A${i + 1}`, description: `Step ${i + 1}`, instructions: `You are step ${i + 1}.`, model, handoffs: i + 1 < length ? [`A${i + 2}`] : [] }),
    ),
  });
}

/** The first user message of a request: the benchmarks use it to tell conversations apart. */
export function conversationKey(req: RecordedRequest): string {
  const first = req.body.messages.find((m) => m.role === 'user');
  const content = first?.content;
  return typeof content === 'string' ? content.slice(0, 60) : '';
}

/**
 * Handoff gaps measured at the model server: for each conversation, the time from the end of one
 * model answer to the arrival of the next model request. That is everything a handoff costs —
 * the runtime's own work plus the client's parse and send — with model time excluded.
 */
export function handoffGaps(requests: readonly RecordedRequest[], keys?: ReadonlySet<string>): number[] {
  const byConversation = new Map<string, RecordedRequest[]>();
  for (const req of requests) {
    const key = conversationKey(req);
    if (keys && !keys.has(key)) continue;
    const list = byConversation.get(key) ?? [];
    list.push(req);
    byConversation.set(key, list);
  }
  const gaps: number[] = [];
  for (const list of byConversation.values()) {
    list.sort((a, b) => a.receivedAtHr - b.receivedAtHr);
    for (let i = 1; i < list.length; i++) {
      const answered = list[i - 1]!.answeredAtHr;
      if (answered !== undefined) gaps.push(list[i]!.receivedAtHr - answered);
    }
  }
  return gaps;
}

/** The stages of one handoff, from one turn's timing to the next's (ms). */
export interface HandoffStages {
  /** Last model return → next model call: the whole per-handoff overhead. */
  total: number;
  /** Worker after the model returned: tool results, events, sending the turn result. */
  workerTail: number;
  /** Turn result through the coordinator queue, the apply, and the publish of the next hop. */
  coordinator: number;
  /** The next hop waiting on its agent's queue. */
  queueWait: number;
  /** The next worker before its model call: validation, checks, history, request building. */
  workerHead: number;
}

/** Per-handoff stages of one conversation, from its turns' timings in order. */
export function stagesOf(timings: readonly TurnTiming[]): HandoffStages[] {
  const stages: HandoffStages[] = [];
  for (let i = 1; i < timings.length; i++) {
    const prev = timings[i - 1]!;
    const next = timings[i]!;
    if (prev.lastModelReturnAt === null || next.firstModelCallAt === null) continue;
    stages.push({
      total: next.firstModelCallAt - prev.lastModelReturnAt,
      workerTail: prev.finishedAt - prev.lastModelReturnAt,
      coordinator: next.queuedAt - prev.finishedAt,
      queueWait: next.startedAt - next.queuedAt,
      workerHead: next.firstModelCallAt - next.startedAt,
    });
  }
  return stages;
}
