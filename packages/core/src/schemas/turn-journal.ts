import { z } from 'zod';
import { Target } from '../definitions/targets.js';
import { ContextVariables } from './json.js';
import { AssistantMessage } from './message.js';
import { TokenUsage } from './usage.js';

/**
 * A journaled model response of a turn: the assembled assistant message (with its tool calls) and
 * its usage. A re-run of the hop uses it instead of calling the model again.
 */
export const JournalModelStep = z.object({
  message: AssistantMessage,
  usage: TokenUsage,
});
/** A journaled model response of a turn. */
export type JournalModelStep = z.infer<typeof JournalModelStep>;

/**
 * A journaled tool result: what the model is told, and what the call did to the turn (the context
 * variables it set, the target its reply result named). A re-run of the hop uses it instead of
 * running the tool again.
 */
export const JournalToolStep = z.object({
  content: z.string(),
  isError: z.boolean(),
  target: Target.optional(),
  context: ContextVariables.optional(),
});
/** A journaled tool result. */
export type JournalToolStep = z.infer<typeof JournalToolStep>;
