import { z } from 'zod';
import { ContextVariables, ConversationLimits, Message } from '@handoff/core';

/** What {@link HandoffClient.start} takes. */
export const StartRequest = z.object({
  /** The entry agent. @defaultValue the network's entry agent */
  agent: z.string().min(1).optional(),
  /** The user's message, or prior messages ending with the user's. */
  input: z.union([z.string().min(1, 'must not be empty'), z.array(Message).min(1, 'must hold at least one message')]),
  /** Initial context variables (JSON values). */
  context: ContextVariables.default({}),
  /** Limits for this conversation (the network's apply where absent). */
  limits: ConversationLimits.default({}),
  /** Use this id instead of a generated one (letters, digits, "_" and "-"). Starting the same id twice starts one conversation. */
  conversationId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be 1-100 letters, digits, "_" or "-"')
    .refine((id) => !/^\d+$/.test(id), 'must not be all digits')
    .optional(),
});
/** What {@link HandoffClient.start} takes. */
export type StartRequest = z.input<typeof StartRequest>;
