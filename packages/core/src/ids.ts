import { customAlphabet } from 'nanoid';
import { z } from 'zod';

// Lower-case letters and digits only: safe in BullMQ job ids (no ':') and Redis keys.
const randomId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 20);

/** A new conversation id, e.g. `c_4k1z…`. */
export function newConversationId(): string {
  return `c_${randomId()}`;
}

/** A new id for a process (worker or gateway) instance. */
export function newInstanceId(role: string): string {
  return `${role}_${randomId().slice(0, 10)}`;
}

/** True when `id` can be used as a conversation id (no ':', not all digits, bounded). */
export function isValidConversationId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id) && !/^\d+$/.test(id);
}

/**
 * Schema of a conversation id at a process boundary: what {@link isValidConversationId} accepts.
 * Conversation and hop ids become BullMQ job ids, which may not contain ':' nor be integers.
 */
export const ConversationId = z.string().refine(isValidConversationId, 'must be 1-100 letters, digits, "_" or "-", and not all digits');

/**
 * A new operation id, e.g. `op_4k1z…`: one per command call (start, user message, approval,
 * cancel). It names the command's job and is recorded by the step that applies it, so a command
 * delivered twice applies once, and a caller that lost the answer can ask again with the same id.
 */
export function newOperationId(kind = 'op'): string {
  return `${kind}_${randomId()}`;
}

/**
 * A new conversation incarnation: a short random id created with the record. It is part of every
 * job id and cache key of the conversation, so a conversation id used again after the old one
 * expired never meets the old conversation's jobs or cached history.
 */
export function newEpoch(): string {
  return randomId().slice(0, 8);
}

/** Schema of an operation id: what may be part of a BullMQ job id and a Redis key (no ':'). */
export const OperationId = z.string().regex(/^[A-Za-z0-9_.-]{1,120}$/, 'must be 1-120 letters, digits, ".", "_" or "-"');
