import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { describeTarget, interpolateContext, type CompiledHandoff, type ContextVariables, type NetworkAgent, type NetworkDefinition } from '@handoff/core';
import { isAvailable } from './rules.js';

/** A transfer tool offered to the model, and the handoff it stands for. */
export interface TransferTool {
  handoff: CompiledHandoff;
  tool: ChatCompletionTool;
}

const REASON = { type: 'string', description: 'Why you are handing off, in one sentence.' } as const;

/** JSON Schema of a transfer tool's parameters: the handoff's typed arguments, plus a reason. */
const parameterSchemas = new WeakMap<CompiledHandoff, Record<string, unknown>>();
function parametersOf(handoff: CompiledHandoff): Record<string, unknown> {
  let schema = parameterSchemas.get(handoff);
  if (!schema) {
    if (handoff.args) {
      const { $schema: _ignored, ...json } = z.toJSONSchema(handoff.args) as Record<string, unknown> & { properties?: Record<string, unknown> };
      schema = { ...json, properties: { ...(json.properties ?? {}), reason: REASON } };
    } else {
      schema = { type: 'object', properties: { reason: REASON }, additionalProperties: false };
    }
    parameterSchemas.set(handoff, schema);
  }
  return schema;
}

function defaultDescription(network: NetworkDefinition, handoff: CompiledHandoff): string {
  const target = handoff.target;
  switch (target.type) {
    case 'agent': {
      const when = network.agent(target.agent, 'handoff').description;
      return `Hand off the conversation to the ${target.agent} agent.${when ? ` ${when}` : ''}`;
    }
    case 'revert_to_user':
      return 'Hand the conversation back to the user and wait for their reply.';
    case 'ask_user':
      return target.question ?? 'Ask the user how to continue.';
    case 'terminate':
      return 'End the conversation.';
    default:
      return `Hand off to ${describeTarget(target)}.`;
  }
}

/**
 * The transfer tools of an agent for this turn (AG2's LLM conditions): one function tool per
 * handoff whose `available` predicate holds, named `transfer_to_<Agent>`; its description is the
 * handoff's condition prompt with `${var}` filled from the live context (or the target's
 * description), and its parameters are the handoff's typed arguments plus an optional reason.
 */
export function transferTools(network: NetworkDefinition, agent: NetworkAgent, context: Readonly<ContextVariables>): TransferTool[] {
  return agent.compiledHandoffs.flatMap((handoff) => {
    if (!isAvailable(handoff, context)) return [];
    const description = handoff.description === undefined ? defaultDescription(network, handoff) : interpolateContext(handoff.description, context);
    return [{ handoff, tool: { type: 'function' as const, function: { name: handoff.toolName, description, parameters: parametersOf(handoff) } } }];
  });
}

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
