import { z } from 'zod';
import { SCHEMA_VERSION } from '../constants.js';
import { ErrorJson } from '../errors/index.js';
import { Target } from '../definitions/targets.js';
import { ContextVariables, JsonValue } from './json.js';
import { Message } from './message.js';
import { TokenUsage } from './usage.js';
import { TurnTiming } from './turn-timing.js';

/** Which kind of rule moved control. */
export const HandoffSource = z.enum(['llm_condition', 'context_condition', 'tool', 'after_work', 'group_manager', 'user', 'nested_chat', 'router', 'fallback', 'health']);
/** Which kind of rule moved control. */
export type HandoffSource = z.infer<typeof HandoffSource>;

/** How a turn ended, as the worker saw it. The coordinator decides what happens next. */
export const TurnOutcome = z.discriminatedUnion('type', [
  /** A rule moved control: a transfer tool the model called, a context condition, a tool's reply result, or after-work. */
  z.object({
    type: z.literal('handoff'),
    target: Target,
    reason: z.string(),
    /** Which kind of rule chose the target. */
    source: HandoffSource,
    args: z.record(z.string(), JsonValue).optional(),
    /** The agent's last answer in this turn, if it gave one (the output if the target ends the conversation). */
    output: z.string().optional(),
  }),
  /** Tool calls that need a person's approval: the conversation pauses until they decide. */
  z.object({
    type: z.literal('approval'),
    calls: z.array(z.object({ toolCallId: z.string(), name: z.string(), arguments: z.string() })).min(1),
  }),
  /** The model answered without handing off. */
  z.object({ type: z.literal('final'), output: z.string() }),
  /** The turn could not complete. */
  z.object({ type: z.literal('failed'), error: ErrorJson }),
]);
/** How a turn ended. */
export type TurnOutcome = z.infer<typeof TurnOutcome>;

/** What a worker sends to the coordinator (stored with its conversation, pushed on its partition's inbox) after one turn. */
export const TurnResult = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('turn'),
  conversationId: z.string().min(1),
  hopId: z.string().min(1),
  seq: z.number().int().min(1),
  agent: z.string().min(1),
  /** Messages this turn added to the history (assistant messages and tool results), in order. */
  newMessages: z.array(Message),
  /** Context variables to set (shallow merge). */
  contextPatch: ContextVariables.optional(),
  outcome: TurnOutcome,
  usage: TokenUsage,
  /** BullMQ attempt that produced this result (1-based). */
  attempt: z.number().int().min(1),
  workerId: z.string(),
  /** The incarnation of the conversation the hop belonged to (from the envelope); a result for another is ignored. */
  epoch: z.string().max(40).optional(),
  timing: TurnTiming,
  /** W3C traceparent of the worker's hop span, when tracing is on (the handoff span is its child). */
  traceparent: z.string().optional(),
});
/** What a worker sends to the coordinator (stored with its conversation, pushed on its partition's inbox) after one turn. */
export type TurnResult = z.infer<typeof TurnResult>;
