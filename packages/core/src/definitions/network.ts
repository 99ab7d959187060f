import { z } from 'zod';
import { DEFAULT_MAX_HOPS, DEFAULT_MAX_PING_PONG } from '../constants.js';
import { ContextExpression, parseCondition } from '../conditions/context-expression.js';
import { DefinitionError, UnknownAgentError, isHandoffError } from '../errors/index.js';
import { formatIssues } from '../validation.js';
import { UserZodObject } from './zod-schema.js';
import type { AgentDefinition, ResolvedHandoff, ResolvedRule } from './agent.js';
import { ConversationLimits } from '../schemas/limits.js';
import { ModelSettings, resolveModelSettings, type ResolvedModelSettings } from './model-settings.js';
import { routerAgents, type RouterDefinition } from './routing.js';
import { Target, targetAgents, toTarget, type NamedTargetSpec } from './targets.js';
import type { Require, UnknownNames, UntypedContext } from './typing.js';

/** Network presets for what happens after a turn without a handoff (AG2's patterns). */
export const Pattern = z.enum(['default', 'auto', 'round_robin', 'random', 'manual']);
/** Network presets for what happens after a turn without a handoff. */
export type Pattern = z.infer<typeof Pattern>;

/** The options of {@link defineNetwork} that are data (besides `agents` and `routers`), as checked. */
export const NetworkOptions = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').describe('Name of the network (shown in logs and the registry).'),
  context: UserZodObject.optional().describe("The schema of the conversations' context (a zod object): starts are validated against it (INVALID_CONTEXT), and it types the agents' instructions, conditions, tools and the clients' start."),
  entry: z.string().optional().describe('Entry agent of conversations that name none. Defaults to the first agent.'),
  maxHops: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_HOPS).describe('Hop limit of its conversations (per run: a user message starts a new run).'),
  model: ModelSettings.optional().describe("Model settings for every agent (each agent's own settings override them)."),
  pattern: Pattern.default('default').describe('What happens after a turn without a handoff when the agent says nothing: default terminates (or afterWork), auto lets the group manager pick, round_robin passes to the next agent, random to a random other agent, manual asks the user.'),
  afterWork: z.union([z.string(), Target]).optional().describe('The group-level after-work of the default pattern (terminate when absent).'),
  keepTransferMessages: z.boolean().default(false).describe('Keep transfer tool calls in the history later agents see.'),
  maxNestingDepth: z.number().int().min(0).max(20).default(3).describe('How deep nested chats and group chats may nest.'),
  limits: ConversationLimits.omit({ maxHops: true }).default({}).describe(`Loop and budget limits of every conversation (each conversation may set its own); maxPingPong is ${DEFAULT_MAX_PING_PONG} unless set.`),
});


/**
 * The input of {@link defineNetwork}. `Agents` and `Schema` are inferred: the agents' names become
 * literal types (targets naming other agents fail to compile), and `context` (a zod object) is the
 * context type of the agents and tools that declare the same schema (`defineAgent({ context })`)
 * and of the clients' `start({ context })`.
 */
export interface NetworkConfig<Agents extends readonly AgentDefinition[] = readonly AgentDefinition[], Schema extends z.ZodObject | undefined = z.ZodObject | undefined, Names extends string = string> {
  /** Name of the network (shown in logs and the registry). */
  name: string;
  /**
   * The schema of the conversations' context (a zod object of JSON values). Starts are validated
   * against it (INVALID_CONTEXT naming each failing path); its output is the context the agents see.
   * Without it the context is any JSON object, as before.
   */
  context?: Schema;
  /** The agents; every target may only name agents of this list. */
  agents: Agents;
  /** Default entry agent for conversations that name none. Defaults to the first agent. */
  entry?: NoInfer<Names>;
  /** Default hop limit of its conversations (per run: a user message starts a new run). @defaultValue 10 */
  maxHops?: number;
  /** Model settings for every agent (each agent's own settings override them). */
  model?: ModelSettings;
  /**
   * What happens after a turn without a handoff, when the agent's own after-work says nothing:
   * `default` terminates (or `afterWork`), `auto` lets the group manager pick, `round_robin` passes
   * to the next agent in the list, `random` to a random other agent, `manual` asks the user.
   * @defaultValue 'default'
   */
  pattern?: Pattern;
  /** The group-level after-work of the `default` pattern. @defaultValue terminate */
  afterWork?: NamedTargetSpec<NoInfer<Names>>;
  /** Keep transfer tool calls in the history later agents see. @defaultValue false */
  keepTransferMessages?: boolean;
  /** How deep nested chats and group chats may nest. @defaultValue 3 */
  maxNestingDepth?: number;
  /** Routers (pools and capability routers) that targets and conversations may name. */
  routers?: Readonly<Record<string, RouterDefinition>>;
  /**
   * Loop and budget limits of every conversation (each conversation may set its own): visits per
   * agent, ping-pong (default 6), a wall-clock deadline, a token budget.
   */
  limits?: Omit<ConversationLimits, 'maxHops'>;
}

/** A rule with its expressions compiled. */
export interface CompiledRule extends ResolvedRule {
  readonly when: ContextExpression | undefined;
  readonly availableWhen: ContextExpression | undefined;
}

/** A handoff with its availability compiled. */
export interface CompiledHandoff extends ResolvedHandoff {
  readonly availableWhen: ContextExpression | undefined;
}

/** An agent as it runs in a network: its definition, resolved model settings, compiled rules. */
export interface NetworkAgent extends AgentDefinition {
  readonly resolvedModel: ResolvedModelSettings;
  readonly compiledHandoffs: readonly CompiledHandoff[];
  readonly compiledContextConditions: readonly CompiledRule[];
  /** The agent's after-work rules followed by the network's default for this agent. */
  readonly compiledAfterWork: readonly CompiledRule[];
  /** The agent's own after-work rules only (a group chat appends its own pattern). */
  readonly compiledOwnAfterWork: readonly CompiledRule[];
}

/** The context type of a network with context schema `Schema` (any JSON object without one). */
export type ContextOfSchema<Schema> = Schema extends z.ZodObject ? z.output<Schema> : UntypedContext;
/** What a start gives as context for a network with context schema `Schema` (before defaults apply). */
export type ContextInputOfSchema<Schema> = Schema extends z.ZodObject ? z.input<Schema> : UntypedContext;
/** The agent names of an agent list, as a union of literal types. */
export type AgentNamesOf<Agents extends readonly AgentDefinition[]> = Agents[number]['name'];
/** The agent names an agent list's targets refer to. */
export type AgentRefsOf<Agents extends readonly AgentDefinition[]> = NonNullable<Agents[number]['~types']>['refs'];

/**
 * A validated, frozen network: what workers and the gateway load. The type parameters are for
 * typed networks (`Names` its agent and router names, `Ctx` its context, `CtxIn` what a start
 * gives); plain `NetworkDefinition` accepts any network.
 */
export interface NetworkDefinition<Names extends string = string, Ctx = UntypedContext, CtxIn = Ctx> {
  readonly name: string;
  /** The context schema (`defineNetwork({ context })`), if any. */
  readonly context: z.ZodObject | undefined;
  readonly entry: string;
  readonly maxHops: number;
  readonly pattern: Pattern;
  readonly keepTransferMessages: boolean;
  readonly maxNestingDepth: number;
  readonly routers: Readonly<Record<string, RouterDefinition>>;
  /** The network's model settings (what the gateway uses to classify for capability routers). */
  readonly model: ResolvedModelSettings;
  /** Default limits beyond maxHops. */
  readonly limits: Omit<ConversationLimits, 'maxHops'>;
  readonly agentNames: readonly string[];
  readonly agents: Readonly<Record<string, NetworkAgent>>;
  /** Every transfer tool name of every agent (stripped from the history later agents see). */
  readonly transferToolNames: ReadonlySet<string>;
  /** The agent of this name, or throws {@link UnknownAgentError} (`context` says who asked). */
  agent(name: string, context?: string): NetworkAgent;
  /** The after-work a pattern gives an agent (group chats pick their own pattern). */
  patternAfterWork(pattern: Pattern, agent: string, members?: readonly string[]): readonly CompiledRule[];
  /** Type-only (never present at run time): agent names and context types, for the clients. */
  readonly '~types'?: { readonly names: Names; readonly context: Ctx; readonly contextInput: CtxIn };
}

/** The agent (and router) names of a network, as a union of literal types (`string` for an untyped one). */
export type AgentNameOf<N> = N extends NetworkDefinition<infer Names, unknown, unknown> ? Names : string;
/** The context agents of a network see (any JSON object for an untyped one). */
export type ContextOf<N> = N extends { readonly '~types'?: { readonly context: infer Ctx } } ? Ctx : UntypedContext;
/** The context a start of a network takes (before the schema's defaults). */
export type ContextInputOf<N> = N extends { readonly '~types'?: { readonly contextInput: infer Ctx } } ? Ctx : UntypedContext;

/** `unknown`, or a property naming the agents that targets refer to but the network does not have (routers are targets through `to.route`, never by name). */
type CheckAgentNames<Agents extends readonly AgentDefinition[]> = Require<
  UnknownNames<AgentRefsOf<Agents>, AgentNamesOf<Agents>>,
  'agents that targets name but the network does not have'
>;
/** `unknown`, or a property naming the agents that routers may pick but the network does not have. */
type CheckRouterAgents<Agents extends readonly AgentDefinition[], RouterAgents extends string> = Require<
  UnknownNames<RouterAgents, AgentNamesOf<Agents>>,
  'agents that routers name but the network does not have'
>;

function compileExpression(source: string | undefined, where: string, problems: string[]): ContextExpression | undefined {
  if (source === undefined) return undefined;
  try {
    return parseCondition(source);
  } catch (error) {
    problems.push(`${where}: ${isHandoffError(error) ? error.message : String(error)}`);
    return undefined;
  }
}

/**
 * Defines a network of agents. Checks every cross-reference at once — duplicate names, targets
 * that name agents not in the network, self-handoffs, duplicate tool names, expressions that do
 * not parse, the entry agent — and throws one {@link DefinitionError} listing every problem.
 *
 * @example
 * ```ts
 * export default defineNetwork({ name: 'translators', agents: [english, spanish], entry: 'EnglishAgent' });
 *
 * // Typed: the context schema types the agents that declare it, and is checked at every start.
 * const Context = z.object({ userId: z.number() });
 * const billing = defineAgent({ name: 'Billing', context: Context, instructions: ({ context }) => `User ${context.userId}` });
 * export default defineNetwork({ name: 'shop', context: Context, agents: [billing] });
 * ```
 */
export function defineNetwork<
  Schema extends z.ZodObject | undefined = undefined,
  Agents extends readonly AgentDefinition<string, ContextOfSchema<Schema>>[] = readonly AgentDefinition<string, ContextOfSchema<Schema>>[],
  const Routers extends string = never,
  const RouterAgents extends string = never,
>(
  config: NetworkConfig<Agents & readonly AgentDefinition<string, ContextOfSchema<Schema>>[], Schema, AgentNamesOf<Agents> | Routers> & {
    routers?: Readonly<Record<Routers, RouterDefinition<RouterAgents>>>;
  } & CheckAgentNames<Agents> &
    CheckRouterAgents<Agents, RouterAgents>,
): NetworkDefinition<AgentNamesOf<Agents> | Routers, ContextOfSchema<Schema>, ContextInputOfSchema<Schema>> {
  const parsed = NetworkOptions.safeParse(config);
  const problems: string[] = parsed.success ? [] : formatIssues(parsed.error);
  const agents: readonly AgentDefinition[] = Array.isArray(config.agents) ? config.agents : [];
  if (agents.length === 0) problems.push('agents: a network needs at least one agent');
  const context = config.context;
  for (const agent of agents) {
    if (agent.context !== undefined && agent.context !== context) problems.push(`agent "${agent.name}": is typed with a context schema that is not the network's (give both the same schema object)`);
  }

  const byName = new Map<string, AgentDefinition>();
  for (const agent of agents) {
    if (byName.has(agent.name)) problems.push(`agents: two agents are named "${agent.name}"`);
    byName.set(agent.name, agent);
  }
  const known = [...byName.keys()];
  const routers: Readonly<Record<string, RouterDefinition>> = config.routers ?? {};
  const checkTarget = (target: Target, where: string) => {
    for (const name of targetAgents(target)) {
      if (!byName.has(name)) problems.push(`${where}: target "${name}" is not in the network (it has: ${known.join(', ')})`);
    }
    if (target.type === 'route' && !Object.prototype.hasOwnProperty.call(routers, target.router)) {
      problems.push(`${where}: router "${target.router}" is not defined (routers: ${Object.keys(routers).join(', ') || 'none'})`);
    }
  };
  for (const [name, router] of Object.entries(routers)) {
    if (byName.has(name)) problems.push(`routers: "${name}" is also an agent's name`);
    for (const agent of routerAgents(router)) {
      if (!byName.has(agent)) problems.push(`router "${name}": agent "${agent}" is not in the network (it has: ${known.join(', ')})`);
    }
    if (router.kind === 'pool' && router.agents.length === 0) problems.push(`router "${name}": a pool needs at least one agent`);
  }
  for (const agent of agents) {
    for (const fallback of agent.fallbacks) {
      if (!byName.has(fallback)) problems.push(`agent "${agent.name}": fallback "${fallback}" is not in the network (it has: ${known.join(', ')})`);
      if (fallback === agent.name) problems.push(`agent "${agent.name}": lists itself as a fallback`);
    }
  }

  const compiled = new Map<string, { compiledHandoffs: readonly CompiledHandoff[]; compiledContextConditions: readonly CompiledRule[]; ownAfterWork: CompiledRule[] }>();
  for (const agent of agents) {
    const toolNames = new Set<string>();
    const compiledHandoffs: CompiledHandoff[] = agent.handoffs.map((handoff: ResolvedHandoff, i: number) => {
      const where = `agent "${agent.name}" handoff ${i + 1} (${handoff.toolName})`;
      checkTarget(handoff.target, where);
      if (handoff.target.type === 'agent' && handoff.target.agent === agent.name) problems.push(`agent "${agent.name}": hands off to itself (use the stay target to keep control)`);
      if (toolNames.has(handoff.toolName)) problems.push(`agent "${agent.name}": two tools are named "${handoff.toolName}"`);
      toolNames.add(handoff.toolName);
      return Object.freeze({ ...handoff, availableWhen: compileExpression(handoff.available, `${where} available`, problems) });
    });
    for (const tool of agent.tools) {
      if (toolNames.has(tool.name)) problems.push(`agent "${agent.name}": two tools are named "${tool.name}"`);
      toolNames.add(tool.name);
    }
    const compileRules = (rules: readonly ResolvedRule[], kind: string): CompiledRule[] =>
      rules.map((rule, i) => {
        const where = `agent "${agent.name}" ${kind} ${i + 1}`;
        checkTarget(rule.target, where);
        return Object.freeze({ ...rule, when: compileExpression(rule.condition, `${where} condition`, problems), availableWhen: compileExpression(rule.available, `${where} available`, problems) });
      });
    compiled.set(agent.name, {
      compiledHandoffs: Object.freeze(compiledHandoffs),
      compiledContextConditions: Object.freeze(compileRules(agent.contextConditions, 'context condition')),
      ownAfterWork: compileRules(agent.afterWork, 'after-work rule'),
    });
  }
  const groupAfterWork = config.afterWork === undefined ? undefined : toTarget(config.afterWork);
  if (groupAfterWork) checkTarget(groupAfterWork, 'afterWork');
  const entry = config.entry ?? agents[0]?.name;
  if (entry !== undefined && !byName.has(entry) && !Object.prototype.hasOwnProperty.call(routers, entry)) problems.push(`entry: "${entry}" is not an agent or router of the network`);

  if (problems.length > 0 || !parsed.success || entry === undefined) {
    throw new DefinitionError(`Network "${String(config.name)}" is invalid:\n  - ${problems.join('\n  - ')}`, { details: { issues: problems } });
  }

  const always = (target: Target): CompiledRule => Object.freeze({ target, condition: undefined, available: undefined, when: undefined, availableWhen: undefined });
  const patternAfterWork = (pattern: Pattern, agent: string, members: readonly string[] = known): readonly CompiledRule[] => {
    switch (pattern) {
      case 'auto':
        return [always({ type: 'group_manager', candidates: members.filter((m) => m !== agent) })];
      case 'round_robin': {
        const index = members.indexOf(agent);
        return [always({ type: 'agent', agent: members[(index + 1) % members.length] ?? agent })];
      }
      case 'random':
        return [always({ type: 'random', agents: [...members] })];
      case 'manual':
        return [always({ type: 'ask_user', choices: [...members] })];
      default:
        return [always(groupAfterWork ?? { type: 'terminate' })];
    }
  };

  const networkAgents: Record<string, NetworkAgent> = {};
  for (const agent of agents) {
    const c = compiled.get(agent.name)!;
    networkAgents[agent.name] = Object.freeze({
      ...agent,
      resolvedModel: resolveModelSettings(parsed.data.model, agent.model),
      compiledHandoffs: c.compiledHandoffs,
      compiledContextConditions: c.compiledContextConditions,
      compiledAfterWork: Object.freeze([...c.ownAfterWork, ...patternAfterWork(parsed.data.pattern, agent.name)]),
      compiledOwnAfterWork: Object.freeze(c.ownAfterWork),
    });
  }
  const agentNames = Object.freeze(agents.map((a) => a.name));
  const transferToolNames = new Set(agents.flatMap((a) => a.handoffs.map((h: ResolvedHandoff) => h.toolName)));
  return Object.freeze({
    name: parsed.data.name,
    context: context instanceof z.ZodObject ? context : undefined,
    entry,
    maxHops: parsed.data.maxHops,
    pattern: parsed.data.pattern,
    keepTransferMessages: parsed.data.keepTransferMessages,
    maxNestingDepth: parsed.data.maxNestingDepth,
    routers: Object.freeze({ ...routers }),
    model: resolveModelSettings(parsed.data.model, undefined),
    limits: Object.freeze({ maxPingPong: DEFAULT_MAX_PING_PONG, ...parsed.data.limits }),
    agentNames,
    agents: Object.freeze(networkAgents),
    transferToolNames,
    agent(name: string, context = 'network') {
      const found = Object.prototype.hasOwnProperty.call(networkAgents, name) ? networkAgents[name] : undefined;
      if (!found) throw new UnknownAgentError(name, agentNames, context);
      return found;
    },
    patternAfterWork,
  });
}

/** True when `value` looks like a {@link NetworkDefinition} (used when loading a user's module). */
export function isNetworkDefinition(value: unknown): value is NetworkDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as NetworkDefinition).name === 'string' &&
    Array.isArray((value as NetworkDefinition).agentNames) &&
    typeof (value as NetworkDefinition).agent === 'function'
  );
}
