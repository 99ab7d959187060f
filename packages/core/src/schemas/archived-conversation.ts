import { z } from 'zod';
import { ConversationRecord } from './conversation.js';
import { Message } from './message.js';
import { RuntimeEvent, type StoredEvent } from './runtime-event.js';

/** An event as it is archived: the event and its id in the conversation's log (what {@link StoredEvent} is in Redis). */
export const ArchivedEvent = z.intersection(RuntimeEvent, z.object({ id: z.string().regex(/^\d+-\d+$/, 'must be a stream id such as 1700000000000-0') }));

/**
 * A finished conversation as the archive keeps it, one row per conversation id: its record, its
 * whole history and its event log (every event with its id, the streamed text of each turn as
 * the log keeps it once the conversation ended). Validated when written and when read back.
 */
export const ArchivedConversation = z.object({
  conversationId: z.string().min(1).max(200),
  /** The record as it was when archived (its status is terminal; `version` says which end). */
  record: ConversationRecord,
  /** Every message, oldest first. */
  history: z.array(Message),
  /** The event log, in order (a log past its retention leaves only the terminal event). */
  events: z.array(ArchivedEvent),
  /** When the conversation ended (ms since the epoch): the record's last update. */
  endedAt: z.number().int().nonnegative(),
  /** When this copy was written (ms since the epoch). */
  archivedAt: z.number().int().nonnegative(),
});
/** A finished conversation as the archive keeps it. */
export type ArchivedConversation = z.infer<typeof ArchivedConversation>;

/** True when stream id `id` comes after `after` (`'0'` or `'0-0'`: the start). */
export function eventIdAfter(id: string, after: string): boolean {
  const [ms, seq] = splitEventId(id);
  const [afterMs, afterSeq] = splitEventId(after);
  return ms > afterMs || (ms === afterMs && seq > afterSeq);
}

/** The archived events after `after` (every event for `'0'`), as a reader of the live log gets them. */
export function archivedEventsAfter(conversation: ArchivedConversation, after = '0'): StoredEvent[] {
  return conversation.events.filter((event) => eventIdAfter(event.id, after)) as StoredEvent[];
}

function splitEventId(id: string): [bigint, bigint] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!match) return [0n, 0n];
  return [BigInt(match[1]!), BigInt(match[2] ?? '0')];
}
