import { z } from 'zod';
import { DEFAULT_MAX_TOOL_ROUNDS } from '../constants.js';
import { DefinitionError } from '../errors/index.js';
import type { ContextVariables } from '../schemas/json.js';
import { formatIssues } from '../validation.js';
import { McpServerSpec } from './mcp.js';
import { ModelSettings } from './model-settings.js';
import { Target, toTarget, type NamedTargetSpec, type TargetSpec } from './targets.js';
import type { FunctionTool } from './tools.js';
import { UserZodObject, zodObjectProblem } from './zod-schema.js';
import type { Bivariant, ConditionVariables, Require, TemplateVariables, UnknownVariables, UntypedContext } from './typing.js';

/** Agent names: a letter, then letters, digits, `_` or `-`; at most 48 characters (tool-name safe). */
export const AgentName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,47}$/, 'must start with a letter and contain only letters, digits, "_" or "-" (at most 48 characters)');

const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-" (an OpenAI tool name)');
const TargetSpecSchema = z.union([AgentName, Target]);
const isFunction = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', `must be a function (${what})`);

/** What an instructions function receives; `Ctx` is the network's context type (see `defineNetwork({ context })`). */
export interface InstructionsContext<Ctx = ContextVariables> {
  readonly agent: string;
  readonly conversationId: string;
  readonly context: Readonly<Ctx>;
  /** Typed arguments the previous agent passed with the handoff, if any. */
  readonly handoffArgs: Readonly<Record<string, unknown>> | undefined;
}

/** Instructions: a system prompt, or a function (possibly async) of the conversation's context that returns it. */
export type Instructions<Ctx = ContextVariables> = string | Bivariant<(context: InstructionsContext<Ctx>) => string | Promise<string>>;

/**
 * A handoff the model may choose — AG2's LLM condition: a transfer tool whose description is the
 * condition's prompt. `description` may embed context values as `${name}`.
 */
export const HandoffSpec = z
  .object({
    /** The agent that takes over (shorthand for `target: 'Agent'`). */
    agent: AgentName.optional(),
    /** Where control goes: an agent name or any target. */
    target: TargetSpecSchema.optional(),
    /** When to hand off (the tool's description). Defaults to the target agent's description. */
    description: z.string().optional(),
    /** Name of the transfer tool. @defaultValue `transfer_to_<Agent>` (or `transfer_to_<target type>`) */
    toolName: ToolName.optional(),
    /** Typed arguments the model fills in and the target agent sees (a zod object). */
    args: UserZodObject.optional(),
    /** Only offered while this holds: a context variable name, or an expression over `${vars}`. */
    available: z.string().optional(),
  })
  .refine((h) => (h.agent === undefined) !== (h.target === undefined), 'give exactly one of agent or target');
/** A handoff the model may choose. */
export type HandoffSpec = z.input<typeof HandoffSpec>;

/** A rule evaluated before the model is called (AG2's context condition). */
export const ContextConditionSpec = z.object({
  target: TargetSpecSchema,
  /** A context variable name (its truthiness) or an expression such as `${severity} >= 8`. */
  condition: z.string().min(1),
  available: z.string().optional(),
});
/** A rule evaluated before the model is called. */
export type ContextConditionSpec = z.input<typeof ContextConditionSpec>;

/** What happens after a turn that ends without a handoff; the first rule that holds wins. */
export const AfterWorkSpec = z.object({
  target: TargetSpecSchema,
  /** Omitted: always. */
  condition: z.string().optional(),
  available: z.string().optional(),
});
/** An after-work rule. */
export type AfterWorkSpec = z.input<typeof AfterWorkSpec>;

/** The input of {@link defineAgent}. */
export const AgentConfig = z.object({
  /** Unique name in the network; also names the agent's queue. */
  name: AgentName.describe('Unique name in the network; also names the agent\'s queue.'),
  /** What the agent is for; other agents' transfer tools and the group manager show it. */
  description: z.string().default('').describe('What the agent is for; other agents\' transfer tools and the group manager show it.'),
  /** The system prompt of every turn, or a function of the context that returns it. */
  instructions: z.union([z.string().min(1, 'must not be empty'), isFunction<(c: InstructionsContext) => string | Promise<string>>('context => string, or context => Promise<string>')]).describe('The system prompt of every turn, or a function (possibly async) of the context that returns it.'),
  /** The network's context schema, for typing only: instructions, conditions and tools of the agent see its type. */
  context: UserZodObject.optional().describe("The network's context schema, for typing only: the agent's instructions, conditions and tools see its type."),
  /** Model name, or full model settings (merged over the network's). */
  model: z.union([z.string().min(1), ModelSettings]).optional().describe('Model name, or full model settings (merged over the network\'s).'),
  /** Handoffs the model may choose: agent names or {@link HandoffSpec}s (LLM conditions). */
  handoffs: z.array(z.union([AgentName, HandoffSpec])).default([]).describe('Handoffs the model may choose: agent names or HandoffSpecs (LLM conditions).'),
  /** Rules evaluated in order before the model is called; the first that holds moves control. */
  contextConditions: z.array(ContextConditionSpec).default([]).describe('Rules evaluated in order before the model is called; the first that holds moves control.'),
  /** Rules after a turn without a handoff, in order (the network's default follows). A single target means "always". */
  afterWork: z.union([TargetSpecSchema, z.array(AfterWorkSpec)]).optional().describe('Rules after a turn without a handoff, in order (the network\'s default follows). A single target means "always".'),
  /** MCP servers whose tools the agent may call (connected by each worker process that serves it). */
  mcpServers: z.array(McpServerSpec).default([]).describe('MCP servers whose tools the agent may call (connected by each worker process that serves it).'),
  /** Function tools (see defineTool). */
  tools: z.array(z.custom<FunctionTool>((v) => (v as FunctionTool | undefined)?.kind === 'function_tool', 'must be made with defineTool')).default([]).describe('Function tools (see defineTool).'),
  /** Most model calls in one turn (tool rounds and retries of invalid tool calls). */
  maxToolRounds: z.number().int().min(1).max(100).default(DEFAULT_MAX_TOOL_ROUNDS).describe('Most model calls in one turn (tool rounds and retries of invalid tool calls).'),
  /**
   * Agents that take the same hop, in order, when this agent's turn fails after its retries (model
   * down, turn timeout, a worker that keeps dying) or it has no live worker.
   */
  fallbacks: z.array(AgentName).default([]).describe("Agents that take the same hop, in order, when this agent's turn fails after its retries (model down, turn timeout, a worker that keeps dying) or it has no live worker."),
  /** Longest one turn may take before it is aborted (TURN_TIMEOUT). @defaultValue 10 minutes */
  turnTimeoutMs: z.number().int().min(1).max(24 * 3_600_000).default(600_000).describe('Longest one turn may take before it is aborted (TURN_TIMEOUT). @defaultValue 10 minutes'),
  /** Backpressure: new conversations for this agent are refused while more hops than this wait on its queue. */
  maxWaiting: z.number().int().min(1).optional().describe('Backpressure: new conversations for this agent are refused while more hops than this wait on its queue.'),
});
/** The input of {@link defineAgent}, untyped (see {@link AgentOptions} for the typed form). */
export type AgentConfig = z.input<typeof AgentConfig>;

/** A handoff the model may choose, with its agent names and context variables typed. */
export interface TypedHandoffSpec<Refs extends string = string, Conds extends string = string, Templates extends string = string> extends Omit<HandoffSpec, 'agent' | 'target' | 'description' | 'available'> {
  /** The agent that takes over (shorthand for `target: 'Agent'`). */
  agent?: Refs;
  /** Where control goes: an agent name or any target. */
  target?: NamedTargetSpec<Refs>;
  /** When to hand off (the tool's description); `${name}` embeds a context value. */
  description?: Templates;
  /** Only offered while this holds: a context variable name, or an expression over `${vars}`. */
  available?: Conds;
}

/** A rule with its agent names and context variables typed (a context condition when `condition` is required). */
export interface TypedRule<Refs extends string = string, Conds extends string = string> {
  target: NamedTargetSpec<Refs>;
  /** A context variable name (its truthiness) or an expression such as `${severity} >= 8`. */
  condition?: Conds;
  available?: Conds;
}

/**
 * The input of {@link defineAgent}, typed: `Name` is the agent's name, `Refs` every agent name
 * its targets refer to (checked against the network by `defineNetwork`), `Ctx` the context type
 * (from `context`: the network's schema; any JSON object without it), `Conds` and `Templates` the conditions and descriptions (their `${variables}` are checked
 * against `Ctx`).
 */
export interface AgentOptions<Name extends string = string, Refs extends string = string, Ctx = ContextVariables, Conds extends string = string, Templates extends string = string>
  extends Omit<AgentConfig, 'name' | 'context' | 'instructions' | 'handoffs' | 'contextConditions' | 'afterWork' | 'fallbacks' | 'tools'> {
  name: Name;
  /** The network's context schema: the agent's instructions, conditions and tools see its type (typing only). */
  context?: z.ZodType<Ctx> | undefined;
  instructions: Instructions<Ctx>;
  handoffs?: readonly (Refs | TypedHandoffSpec<Refs, Conds, Templates>)[] | undefined;
  contextConditions?: readonly (TypedRule<Refs, Conds> & { condition: Conds })[] | undefined;
  afterWork?: NamedTargetSpec<Refs> | readonly TypedRule<Refs, Conds>[] | undefined;
  fallbacks?: readonly Refs[] | undefined;
  /** Function tools: typed with this context (`defineTool({ context })`), or untyped. */
  tools?: readonly (FunctionTool<z.ZodObject, Ctx> | FunctionTool<z.ZodObject, UntypedContext>)[] | undefined;
}

/** `unknown`, or a property naming the context variables that `Conds` and `Templates` use but `Ctx` lacks. */
export type CheckContextVariables<Ctx, Conds extends string, Templates extends string> = Require<
  UnknownVariables<ConditionVariables<Conds> | TemplateVariables<Templates>, Ctx>,
  'context variables that the context schema does not have'
>;

/** A handoff with its defaults applied. */
export interface ResolvedHandoff {
  readonly target: Target;
  /** The target agent, when the target is an agent (for the default description). */
  readonly agent: string | undefined;
  readonly toolName: string;
  readonly description: string | undefined;
  readonly args: z.ZodObject | undefined;
  readonly available: string | undefined;
}

/** A conditional target (context condition or after-work rule) with its defaults applied. */
export interface ResolvedRule {
  readonly target: Target;
  readonly condition: string | undefined;
  readonly available: string | undefined;
}

/**
 * A validated, frozen agent definition. The type parameters are for typed networks: `Name` the
 * agent's name, `Ctx` its context type, `Refs` the agent names its targets refer to; plain
 * `AgentDefinition` accepts any agent.
 */
export interface AgentDefinition<Name extends string = string, Ctx = any, Refs extends string = string> {
  readonly name: Name;
  readonly description: string;
  readonly instructions: Instructions<Ctx>;
  readonly model: ModelSettings | undefined;
  readonly handoffs: readonly ResolvedHandoff[];
  readonly contextConditions: readonly ResolvedRule[];
  readonly afterWork: readonly ResolvedRule[];
  readonly tools: readonly FunctionTool[];
  readonly mcpServers: readonly McpServerSpec[];
  readonly maxToolRounds: number;
  readonly fallbacks: readonly string[];
  readonly turnTimeoutMs: number;
  readonly maxWaiting: number | undefined;
  /** The context schema the agent was typed with, if any (defineNetwork checks it is the network's). */
  readonly context: z.ZodObject | undefined;
  /** Type-only (never present at run time): the agent names its targets refer to, and its context type. */
  readonly '~types'?: { readonly refs: Refs; readonly context: (context: Ctx) => void };
}

function handoffToolName(target: Target, taken: Set<string>): string {
  const base = target.type === 'agent' ? `transfer_to_${target.agent}` : `transfer_to_${target.type}`;
  let name = base.slice(0, 64);
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 60)}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Defines an agent. Validates the configuration at once and throws a {@link DefinitionError} that
 * names every bad field; targets and expressions are checked when the agent joins a network. Its
 * name and the agent names of its targets are kept as literal types (so `defineNetwork` rejects a
 * typo at compile time); with `context` (the network's context schema) its instructions, tools and
 * the `${variables}` of its conditions are typed by the schema.
 *
 * @example
 * ```ts
 * const spanish = defineAgent({ name: 'SpanishAgent', description: 'Answers in Spanish',
 *   instructions: 'Only respond in Spanish', handoffs: ['EnglishAgent'] });
 * const billing = defineAgent({ name: 'Billing', context: Context,
 *   instructions: async ({ context }) => `Invoices of user ${context.userId}`,
 *   contextConditions: [{ target: 'Sales', condition: '${tier} == "free"' }] });
 * ```
 */
export function defineAgent<const Name extends string, const Refs extends string = never, Ctx = UntypedContext, const Conds extends string = never, const Templates extends string = never>(
  config: AgentOptions<Name, Refs, Ctx, Conds, Templates> & CheckContextVariables<Ctx, Conds, Templates>,
): AgentDefinition<NoInfer<Name>, Ctx, NoInfer<Refs>> {
  refuseZod3HandoffArgs(config);
  const parsed = AgentConfig.safeParse(config);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error);
    const name = typeof (config as { name?: unknown })?.name === 'string' ? `"${(config as { name: string }).name}"` : '(unnamed)';
    throw new DefinitionError(`Agent ${name} is invalid: ${issues.join('; ')}`, { details: { issues } });
  }
  const c = parsed.data;
  const taken = new Set<string>(c.handoffs.flatMap((h) => (typeof h === 'object' && h.toolName ? [h.toolName] : [])));
  const handoffs = c.handoffs.map((h): ResolvedHandoff => {
    const spec = typeof h === 'string' ? { agent: h } : h;
    const target = toTarget((spec.target ?? spec.agent) as TargetSpec);
    return Object.freeze({
      target,
      agent: target.type === 'agent' ? target.agent : undefined,
      toolName: spec.toolName ?? handoffToolName(target, taken),
      description: spec.description,
      args: spec.args,
      available: spec.available,
    });
  });
  const rule = (r: { target: TargetSpec; condition?: string | undefined; available?: string | undefined }): ResolvedRule =>
    Object.freeze({ target: toTarget(r.target), condition: r.condition, available: r.available });
  const afterWork = c.afterWork === undefined ? [] : Array.isArray(c.afterWork) ? c.afterWork.map(rule) : [rule({ target: c.afterWork as TargetSpec })];
  return Object.freeze({
    name: c.name as Name,
    description: c.description,
    instructions: c.instructions,
    model: typeof c.model === 'string' ? { name: c.model } : c.model,
    handoffs: Object.freeze(handoffs),
    contextConditions: Object.freeze(c.contextConditions.map((r) => rule(r as { target: TargetSpec; condition: string }))),
    afterWork: Object.freeze(afterWork),
    tools: Object.freeze([...c.tools]),
    mcpServers: Object.freeze([...c.mcpServers]),
    maxToolRounds: c.maxToolRounds,
    fallbacks: Object.freeze([...c.fallbacks]),
    turnTimeoutMs: c.turnTimeoutMs,
    maxWaiting: c.maxWaiting,
    context: c.context,
  }) as AgentDefinition<Name, Ctx, Refs>;
}

/**
 * Handoff arguments built with zod 3 get a message naming the fix (the handoffs union would only
 * say "Invalid input").
 */
function refuseZod3HandoffArgs(config: { name?: unknown; handoffs?: unknown }): void {
  const handoffs = config.handoffs;
  if (!Array.isArray(handoffs)) return;
  handoffs.forEach((handoff: unknown, i) => {
    const args = handoff !== null && typeof handoff === 'object' ? (handoff as { args?: unknown }).args : undefined;
    const problem = args === undefined ? undefined : zodObjectProblem(args);
    if (problem?.startsWith('is a zod 3 schema')) {
      throw new DefinitionError(`Agent "${String(config.name)}" is invalid: handoffs.${i}.args ${problem}`, { details: { agent: config.name, field: `handoffs.${i}.args` } });
    }
  });
}
