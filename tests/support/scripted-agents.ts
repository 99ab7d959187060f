import { defineAgent, type AgentConfig, type AgentDefinition } from '@handoff/core';
import { systemIncludes, toolNames, type RecordedRequest, type ScriptRule, type ScriptedReply } from '@handoff/testing';

/** An agent whose instructions start with `You are <name>.`, on the scripted model at `url`. */
export function scriptedAgent(url: string, name: string, config: Omit<AgentConfig, 'name' | 'instructions'> & { instructions?: AgentConfig['instructions'] } = {}): AgentDefinition {
  return defineAgent({
    description: `The ${name} agent`,
    instructions: `You are ${name}.`,
    ...config,
    name,
    model: { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 },
  });
}

/** True for a request made by `name`'s turn (its instructions are in the system message). */
export function by(name: string): (req: RecordedRequest) => boolean {
  return (req) => systemIncludes(`You are ${name}.`)(req) && !systemIncludes('role play game')(req);
}

/** A rule: when `name` calls the model, reply with `reply`. */
export function when(name: string, reply: ScriptedReply | ((req: RecordedRequest) => ScriptedReply), extra: Partial<ScriptRule> = {}): ScriptRule {
  return { name: `${name} replies`, when: by(name), reply, ...extra };
}

/** A reply that calls one tool. */
export function call(tool: string, args: Record<string, unknown> = {}): ScriptedReply {
  return { toolCalls: [{ name: tool, arguments: args }] };
}

/** The tool messages a request carries, newest last. */
export function toolResults(req: RecordedRequest): string[] {
  return req.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
}

export { toolNames };
