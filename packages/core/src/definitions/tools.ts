import { z } from 'zod';
import { DefinitionError } from '../errors/index.js';
import type { ContextVariables, JsonValue } from '../schemas/json.js';
import type { NamedTargetSpec, TargetSpec } from './targets.js';
import { zodObjectProblem } from './zod-schema.js';
import type { ContextPatch, UntypedContext } from './typing.js';

/**
 * What a tool's handler returns to move control, AG2's ReplyResult: `message` is the tool result
 * the model sees, `context` is merged into the context variables, and `target` (if any) is where
 * control goes next.
 */
export interface ReplyResult<Patch = UntypedContext> {
  readonly kind: 'reply_result';
  readonly message: string;
  readonly target?: TargetSpec | undefined;
  /** Merged into the context variables (in a typed network, a patch of known variables). */
  readonly context?: Patch | undefined;
}

/**
 * Builds a {@link ReplyResult}. In a tool typed with the network's context (`defineTool({ context })`),
 * `ctx.reply({ … })` builds the same result with its context patch checked against the schema.
 */
export function replyResult<const Name extends string = string>(result: { message: string; target?: NamedTargetSpec<Name>; context?: ContextVariables }): ReplyResult {
  return Object.freeze({ kind: 'reply_result', ...result });
}

/** True when a tool handler returned a {@link ReplyResult}. */
export function isReplyResult(value: unknown): value is ReplyResult {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'reply_result';
}

/** What a tool handler receives besides its arguments; `Ctx` is the network's context type. */
export interface ToolContext<Ctx = UntypedContext> {
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
  readonly context: Readonly<Ctx>;
  /** Merges a patch into the context variables (applied with the turn). */
  setContext(patch: ContextPatch<Ctx>): void;
  /** {@link replyResult}, with the context patch typed by the network's context schema: return it to move control. */
  reply(result: { message: string; target?: TargetSpec; context?: ContextPatch<Ctx> }): ReplyResult<ContextPatch<Ctx>>;
  /** Aborted when the turn is cancelled or the worker shuts down past its drain timeout. */
  readonly signal: AbortSignal;
  /** A logger tagged with the conversation, hop and agent. */
  readonly logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** What a tool handler may return: text, any JSON value (sent as JSON), or a {@link ReplyResult}. */
export type ToolOutput<Ctx = UntypedContext> = string | JsonValue | ReplyResult<ContextPatch<Ctx>>;

/** A function tool as defined by the user; `Ctx` is the context type its handler sees. */
export interface FunctionTool<Args extends z.ZodObject = z.ZodObject, Ctx = any> {
  readonly kind: 'function_tool';
  readonly name: string;
  readonly description: string;
  /** The arguments, as a zod object (sent to the model as JSON Schema). */
  readonly parameters: Args;
  readonly handler: (args: z.output<Args>, context: ToolContext<Ctx>) => ToolOutput<Ctx> | Promise<ToolOutput<Ctx>>;
  /** Longest a call may take. @defaultValue 60 000 */
  readonly timeoutMs: number;
  /** Run alone: calls before it finish first, calls after it wait for it. @defaultValue false (concurrent) */
  readonly sequential: boolean;
  /** A person must approve each call (the conversation pauses until they do). @defaultValue false */
  readonly needsApproval: boolean | ((args: Record<string, unknown>, context: Readonly<Ctx>) => boolean);
}

const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

/**
 * Defines a function tool. Give the network's context schema as `context` to type the handler's
 * `ctx.context`, `ctx.setContext` and the reply result's context patch.
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
export function defineTool<Args extends z.ZodObject, Ctx = UntypedContext>(tool: {
  name: string;
  description: string;
  parameters: Args;
  /** The network's context schema, for typing only. */
  context?: z.ZodType<Ctx>;
  handler: (args: z.output<Args>, context: ToolContext<Ctx>) => ToolOutput<Ctx> | Promise<ToolOutput<Ctx>>;
  timeoutMs?: number;
  sequential?: boolean;
  needsApproval?: FunctionTool<Args, Ctx>['needsApproval'];
}): FunctionTool<Args, Ctx> {
  const name = ToolName.safeParse(tool.name);
  if (!name.success) throw new DefinitionError(`Tool "${tool.name}": name ${name.error.issues[0]?.message ?? 'is invalid'}`);
  if (typeof tool.handler !== 'function') throw new DefinitionError(`Tool "${tool.name}": handler must be a function`);
  const schemaProblem = zodObjectProblem(tool.parameters);
  if (schemaProblem) throw new DefinitionError(`Tool "${tool.name}": parameters ${schemaProblem}`, { details: { tool: tool.name, field: 'parameters' } });
  const { context: _typingOnly, ...definition } = tool;
  return Object.freeze({ kind: 'function_tool', timeoutMs: 60_000, sequential: false, needsApproval: false, ...definition }) as FunctionTool<Args, Ctx>;
}
