import { z } from 'zod';

/** Largest part of a Redis stream id (an unsigned 64-bit integer). */
const MAX_ID_PART = 2n ** 64n - 1n;
/** `<milliseconds>` or `<milliseconds>-<sequence>`, each at most 20 digits. */
const EVENT_ID_PATTERN = /^\d{1,20}(-\d{1,20})?$/;

/**
 * An event's id in its conversation's log, as events carry it (`id`, the SSE `id:` line): a Redis
 * stream id `<milliseconds>-<sequence>`, e.g. `1796185099699-1`, or `<milliseconds>` alone. `0`
 * means "from the start". Resuming takes one of these (`events({ after })`, `Last-Event-ID`,
 * `?after=`); anything else — `-`, `+`, `>`, `$`, free text — is refused before it reaches Redis.
 */
export const EventId = z
  .string()
  .regex(EVENT_ID_PATTERN, 'must be an event id as the stream sends it ("<milliseconds>-<sequence>", e.g. "1796185099699-1"), or "0" for the start')
  .refine((id) => !EVENT_ID_PATTERN.test(id) || id.split('-').every((part) => BigInt(part) <= MAX_ID_PART), 'has a part larger than 2^64 - 1, which no event id has');
/** An event's id in its conversation's log. */
export type EventId = z.infer<typeof EventId>;
