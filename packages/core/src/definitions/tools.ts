import { z } from 'zod';
import { DefinitionError } from '../errors/index.js';
import type { ContextVariables, JsonValue } from '../schemas/json.js';
import type { TargetSpec } from './targets.js';
import { zodObjectProblem } from './zod-schema.js';

/**
 * What a tool's handler returns to move control, AG2's ReplyResult: `message` is the tool result
 * the model sees, `context` is merged into the context variables, and `target` (if any) is where
 * control goes next.
 */
export interface ReplyResult {
  readonly kind: 'reply_result';
  readonly message: string;
  readonly target?: TargetSpec | undefined;
  readonly context?: ContextVariables | undefined;
}

/** Builds a {@link ReplyResult}. */
export function replyResult(result: { message: string; target?: TargetSpec; context?: ContextVariables }): ReplyResult {
  return Object.freeze({ kind: 'reply_result', ...result });
}

/** True when a tool handler returned a {@link ReplyResult}. */
export function isReplyResult(value: unknown): value is ReplyResult {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'reply_result';
}

/** What a tool handler receives besides its arguments. */
export interface ToolContext {
  readonly conversationId: string;
  readonly hopId: string;
  readonly agent: string;
  /**
   * A key that names this call stably, `<hopId>:<toolCallId>`: the same on every run of the hop (a
   * re-run after a crash, a stall or a drain). Pass it to external systems that deduplicate
   * requests (a payment API's idempotency key, a ticket's external id): the turn journal runs a
   * completed call only once, but a handler that dies after its side effect and before its result
   * is journaled runs again, with the same key.
   */
  readonly idempotencyKey: string;
  /** The context variables as of this call (patches of earlier calls in the turn included). */
  readonly context: Readonly<ContextVariables>;
  /** Merges a patch into the context variables (applied with the turn). */
  setContext(patch: ContextVariables): void;
  /** Aborted when the turn is cancelled or the worker shuts down past its drain timeout. */
  readonly signal: AbortSignal;
  /** A logger tagged with the conversation, hop and agent. */
  readonly logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** What a tool handler may return: text, any JSON value (sent as JSON), or a {@link ReplyResult}. */
export type ToolOutput = string | JsonValue | ReplyResult;

/** A function tool as defined by the user. */
export interface FunctionTool<Args extends z.ZodObject = z.ZodObject> {
  readonly kind: 'function_tool';
  readonly name: string;
  readonly description: string;
  /** The arguments, as a zod object (sent to the model as JSON Schema). */
  readonly parameters: Args;
  readonly handler: (args: z.output<Args>, context: ToolContext) => ToolOutput | Promise<ToolOutput>;
  /** Longest a call may take. @defaultValue 60 000 */
  readonly timeoutMs: number;
  /** Run alone: calls before it finish first, calls after it wait for it. @defaultValue false (concurrent) */
  readonly sequential: boolean;
  /** A person must approve each call (the conversation pauses until they do). @defaultValue false */
  readonly needsApproval: boolean | ((args: Record<string, unknown>, context: Readonly<ContextVariables>) => boolean);
}

const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

/**
 * Defines a function tool.
 *
 * @example
 * ```ts
 * const checkStatus = defineTool({
 *   name: 'check_system_status',
 *   description: 'Check the status of a system component',
 *   parameters: z.object({ component: z.string() }),
 *   handler: async ({ component }) => `Status of ${component}: Operational`,
 * });
 * ```
 */
export function defineTool<Args extends z.ZodObject>(tool: {
  name: string;
  description: string;
  parameters: Args;
  handler: (args: z.output<Args>, context: ToolContext) => ToolOutput | Promise<ToolOutput>;
  timeoutMs?: number;
  sequential?: boolean;
  needsApproval?: FunctionTool['needsApproval'];
}): FunctionTool<Args> {
  const name = ToolName.safeParse(tool.name);
  if (!name.success) throw new DefinitionError(`Tool "${tool.name}": name ${name.error.issues[0]?.message ?? 'is invalid'}`);
  if (typeof tool.handler !== 'function') throw new DefinitionError(`Tool "${tool.name}": handler must be a function`);
  const schemaProblem = zodObjectProblem(tool.parameters);
  if (schemaProblem) throw new DefinitionError(`Tool "${tool.name}": parameters ${schemaProblem}`, { details: { tool: tool.name, field: 'parameters' } });
  return Object.freeze({ kind: 'function_tool', timeoutMs: 60_000, sequential: false, needsApproval: false, ...tool }) as FunctionTool<Args>;
}
