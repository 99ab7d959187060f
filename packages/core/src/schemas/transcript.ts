import { z } from 'zod';
import { Message } from './message.js';
import type { StoredEvent } from './runtime-event.js';

/** Messages a transcript page holds when the caller does not say. */
export const DEFAULT_TRANSCRIPT_PAGE = 100;
/** The most messages one transcript page holds. */
export const MAX_TRANSCRIPT_PAGE = 1_000;

/** Which part of a conversation's transcript to read: `limit` messages from index `from`. */
export const TranscriptQuery = z.object({
  from: z.coerce.number().int().min(0).default(0).describe('Index of the first message (0 is the oldest).'),
  limit: z.coerce.number().int().min(1).max(MAX_TRANSCRIPT_PAGE).default(DEFAULT_TRANSCRIPT_PAGE).describe(`Messages in the page (at most ${MAX_TRANSCRIPT_PAGE}).`),
});
export type TranscriptQuery = z.input<typeof TranscriptQuery>;

/** One message of a conversation's history, as the model saw it, with the agent that wrote it. */
export const TranscriptEntry = z.object({
  index: z.number().int().min(0).describe('Its place in the history (0 is the oldest).'),
  agent: z.string().nullable().describe('The agent whose turn added it (its assistant and tool messages); null for messages from the user or the caller.'),
  message: Message.describe('The message, in the OpenAI chat format.'),
});
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;

/** One page of a conversation's transcript. */
export const TranscriptPage = z.object({
  conversationId: z.string(),
  entries: z.array(TranscriptEntry),
  total: z.number().int().min(0).describe('Messages in the whole history.'),
  next: z.number().int().min(0).nullable().describe('The `from` of the next page; null on the last page.'),
});
export type TranscriptPage = z.infer<typeof TranscriptPage>;

/**
 * Which agent wrote each history entry: the turns' `agent.completed` events name the range of
 * entries each turn appended. Entries no turn appended (the input, the user's messages) get null.
 */
export function agentsOfHistory(events: Iterable<StoredEvent>, total: number): (string | null)[] {
  const agents: (string | null)[] = Array.from({ length: total }, () => null);
  for (const event of events) {
    if (event.type !== 'agent.completed' || !event.messages) continue;
    const end = Math.min(total, event.messages.from + event.messages.count);
    for (let i = Math.max(0, event.messages.from); i < end; i++) agents[i] = event.agent;
  }
  return agents;
}

/** A page of entries: `history` holds the entries from `query.from` on, of a history of `total`; the events say who wrote what. */
export function transcriptPage(conversationId: string, history: readonly Message[], events: Iterable<StoredEvent>, query: z.output<typeof TranscriptQuery>, total: number): TranscriptPage {
  const agents = agentsOfHistory(events, total);
  const entries = history.map((message, i) => ({ index: query.from + i, agent: agents[query.from + i] ?? null, message }));
  const end = query.from + entries.length;
  return { conversationId, entries, total, next: end < total ? end : null };
}
