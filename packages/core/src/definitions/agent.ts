import { z } from 'zod';
import { DEFAULT_MAX_TOOL_ROUNDS } from '../constants.js';
import { DefinitionError } from '../errors/index.js';
import { formatIssues } from '../validation.js';
import { ModelSettings } from './model-settings.js';

/** Agent names: a letter, then letters, digits, `_` or `-`; at most 48 characters (tool-name safe). */
export const AgentName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,47}$/, 'must start with a letter and contain only letters, digits, "_" or "-" (at most 48 characters)');

/** A handoff from an agent to another, as written in a definition. */
export const HandoffSpec = z.object({
  /** The agent that takes over. */
  agent: AgentName,
  /** When to hand off; shown to the model in the transfer tool's description. Defaults to the target's description. */
  description: z.string().optional(),
  /** Name of the transfer tool. Defaults to `transfer_to_<agent>`. */
  toolName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-" (an OpenAI tool name)')
    .optional(),
});
/** A handoff from an agent to another. */
export type HandoffSpec = z.infer<typeof HandoffSpec>;

/** A handoff with its defaults applied. */
export interface ResolvedHandoff {
  readonly agent: string;
  readonly toolName: string;
  readonly description?: string | undefined;
}

/** The input of {@link defineAgent}. */
export const AgentConfig = z.object({
  /** Unique name in the network; also names the agent's queue. */
  name: AgentName,
  /** What the agent is for; other agents' transfer tools show it to their model. */
  description: z.string().default(''),
  /** The system prompt of every turn of this agent. */
  instructions: z.string().min(1, 'must not be empty'),
  /** Model name, or full model settings (merged over the network's). */
  model: z.union([z.string().min(1), ModelSettings]).optional(),
  /** Agents this one may hand off to: names, or {@link HandoffSpec}s. */
  handoffs: z.array(z.union([AgentName, HandoffSpec])).default([]),
  /** Most model calls in one turn (tool rounds and retries of invalid tool calls). */
  maxToolRounds: z.number().int().min(1).max(100).default(DEFAULT_MAX_TOOL_ROUNDS),
});
/** The input of {@link defineAgent}. */
export type AgentConfig = z.input<typeof AgentConfig>;

/** A validated, frozen agent definition. */
export interface AgentDefinition {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly model: ModelSettings | undefined;
  readonly handoffs: readonly ResolvedHandoff[];
  readonly maxToolRounds: number;
}

/**
 * Defines an agent. Validates the configuration at once and throws a {@link DefinitionError} that
 * names every bad field; handoff targets are checked when the agent joins a network.
 *
 * @example
 * ```ts
 * const spanish = defineAgent({ name: 'SpanishAgent', description: 'Answers in Spanish',
 *   instructions: 'Only respond in Spanish', handoffs: ['EnglishAgent'] });
 * ```
 */
export function defineAgent(config: AgentConfig): AgentDefinition {
  const parsed = AgentConfig.safeParse(config);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error);
    const name = typeof (config as { name?: unknown })?.name === 'string' ? `"${(config as { name: string }).name}"` : '(unnamed)';
    throw new DefinitionError(`Agent ${name} is invalid: ${issues.join('; ')}`, { details: { issues } });
  }
  const c = parsed.data;
  const handoffs = c.handoffs.map((h) => {
    const spec = typeof h === 'string' ? { agent: h } : h;
    const resolved: ResolvedHandoff = { ...spec, toolName: spec.toolName ?? `transfer_to_${spec.agent}` };
    return Object.freeze(resolved);
  });
  return Object.freeze({
    name: c.name,
    description: c.description,
    instructions: c.instructions,
    model: typeof c.model === 'string' ? { name: c.model } : c.model,
    handoffs: Object.freeze(handoffs),
    maxToolRounds: c.maxToolRounds,
  });
}
