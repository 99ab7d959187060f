import { z } from 'zod';
import { DEFAULT_MAX_HOPS } from '../constants.js';
import { DefinitionError, UnknownAgentError } from '../errors/index.js';
import { formatIssues } from '../validation.js';
import type { AgentDefinition } from './agent.js';
import { ModelSettings, resolveModelSettings, type ResolvedModelSettings } from './model-settings.js';

const NetworkOptions = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  entry: z.string().optional(),
  maxHops: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_HOPS),
  model: ModelSettings.optional(),
});

/** The input of {@link defineNetwork}. */
export interface NetworkConfig {
  /** Name of the network (shown in logs and the registry). */
  name: string;
  /** The agents; their handoffs may only name agents of this list. */
  agents: readonly AgentDefinition[];
  /** Default entry agent for conversations that name none. Defaults to the first agent. */
  entry?: string;
  /** Default hop limit of its conversations. @defaultValue 10 */
  maxHops?: number;
  /** Model settings for every agent (each agent's own settings override them). */
  model?: ModelSettings;
}

/** An agent as it runs in a network: its definition plus resolved model settings. */
export interface NetworkAgent extends AgentDefinition {
  readonly resolvedModel: ResolvedModelSettings;
}

/** A validated, frozen network: what workers and the gateway load. */
export interface NetworkDefinition {
  readonly name: string;
  readonly entry: string;
  readonly maxHops: number;
  readonly agentNames: readonly string[];
  readonly agents: Readonly<Record<string, NetworkAgent>>;
  /** The agent of this name, or throws {@link UnknownAgentError} (`context` says who asked). */
  agent(name: string, context?: string): NetworkAgent;
}

/**
 * Defines a network of agents. Checks every cross-reference at once — duplicate names, handoffs
 * to agents not in the network, self-handoffs, duplicate transfer tool names, the entry agent —
 * and throws one {@link DefinitionError} listing every problem.
 *
 * @example
 * ```ts
 * export default defineNetwork({ name: 'translators', agents: [english, spanish], entry: 'EnglishAgent' });
 * ```
 */
export function defineNetwork(config: NetworkConfig): NetworkDefinition {
  const parsed = NetworkOptions.safeParse(config);
  const problems: string[] = parsed.success ? [] : formatIssues(parsed.error);
  const agents = Array.isArray(config.agents) ? config.agents : [];
  if (agents.length === 0) problems.push('agents: a network needs at least one agent');

  const byName = new Map<string, AgentDefinition>();
  for (const agent of agents) {
    if (byName.has(agent.name)) problems.push(`agents: two agents are named "${agent.name}"`);
    byName.set(agent.name, agent);
  }
  for (const agent of agents) {
    const toolNames = new Set<string>();
    for (const handoff of agent.handoffs) {
      if (!byName.has(handoff.agent)) {
        problems.push(`agent "${agent.name}": handoff to "${handoff.agent}", which is not in the network (it has: ${[...byName.keys()].join(', ')})`);
      }
      if (handoff.agent === agent.name) problems.push(`agent "${agent.name}": hands off to itself`);
      if (toolNames.has(handoff.toolName)) problems.push(`agent "${agent.name}": two handoffs use the tool name "${handoff.toolName}"`);
      toolNames.add(handoff.toolName);
    }
  }
  const entry = config.entry ?? agents[0]?.name;
  if (entry !== undefined && !byName.has(entry)) problems.push(`entry: "${entry}" is not an agent of the network`);

  if (problems.length > 0 || !parsed.success || entry === undefined) {
    throw new DefinitionError(`Network "${String(config.name)}" is invalid:\n  - ${problems.join('\n  - ')}`, {
      details: { issues: problems },
    });
  }

  const networkAgents: Record<string, NetworkAgent> = {};
  for (const agent of agents) {
    networkAgents[agent.name] = Object.freeze({ ...agent, resolvedModel: resolveModelSettings(parsed.data.model, agent.model) });
  }
  const agentNames = Object.freeze(agents.map((a) => a.name));
  return Object.freeze({
    name: parsed.data.name,
    entry,
    maxHops: parsed.data.maxHops,
    agentNames,
    agents: Object.freeze(networkAgents),
    agent(name: string, context = 'network') {
      const found = Object.prototype.hasOwnProperty.call(networkAgents, name) ? networkAgents[name] : undefined;
      if (!found) throw new UnknownAgentError(name, agentNames, context);
      return found;
    },
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
