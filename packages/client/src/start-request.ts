import { z } from 'zod';
import { ContextVariables, ConversationLimits, Message, type AgentNameOf, type ContextInputOf, type NetworkDefinition } from '@handoff/core';

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

/** The context a start of network `N` takes: its schema's input, or any JSON object for an untyped network. */
type StartContextOf<N> = string extends keyof ContextInputOf<N> ? StartRequest['context'] : ContextInputOf<N>;
/** The context part of a typed start: required when the network's context schema requires a variable. */
type StartContext<N> = Record<string, never> extends StartContextOf<N> ? { context?: StartContextOf<N> } : { context: StartContextOf<N> };

/**
 * What {@link HandoffClient.start} takes for network `N`: the entry agent is one of the network's
 * agent (or router) names, and the context has the type of its context schema. For an untyped
 * network, the same as {@link StartRequest}.
 */
export type TypedStartRequest<N extends NetworkDefinition = NetworkDefinition> = Omit<StartRequest, 'agent' | 'context'> & {
  /** The entry agent (or router). @defaultValue the network's entry agent */
  agent?: AgentNameOf<N>;
} & StartContext<N>;
