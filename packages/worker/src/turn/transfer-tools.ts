import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { NetworkAgent, NetworkDefinition, ResolvedHandoff } from '@handoff/core';

/** A transfer tool offered to the model, and the handoff it stands for. */
export interface TransferTool {
  handoff: ResolvedHandoff;
  tool: ChatCompletionTool;
}

/**
 * The transfer tools of an agent: one function tool per handoff, named `transfer_to_<Agent>`,
 * whose description says when to use it (the handoff's description, else the target's). Its one
 * optional argument is the reason, which travels with the handoff event.
 */
export function transferTools(network: NetworkDefinition, agent: NetworkAgent): readonly TransferTool[] {
  const known = cache.get(agent);
  if (known) return known;
  const tools = agent.handoffs.map((handoff): TransferTool => {
    const target = network.agent(handoff.agent, `Handoff of "${agent.name}"`);
    const when = handoff.description ?? target.description;
    return {
      handoff,
      tool: {
        type: 'function',
        function: {
          name: handoff.toolName,
          description: `Hand off the conversation to the ${target.name} agent.${when ? ` ${when}` : ''}`,
          parameters: {
            type: 'object',
            properties: { reason: { type: 'string', description: 'Why you are handing off, in one sentence.' } },
            additionalProperties: false,
          },
        },
      },
    };
  });
  cache.set(agent, tools);
  return tools;
}

// Agents are frozen definitions: their tools are computed once.
const cache = new WeakMap<NetworkAgent, readonly TransferTool[]>();

/** Result of reading a tool call's JSON arguments. */
export type ParsedArguments = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** Parses a tool call's arguments: a JSON object, or empty (meaning none). */
export function parseToolArguments(raw: string): ParsedArguments {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    const value: unknown = JSON.parse(raw);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, error: `arguments must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
    }
    return { ok: true, value: value as Record<string, unknown> };
  } catch (error) {
    return { ok: false, error: `arguments are not valid JSON (${(error as Error).message})` };
  }
}
