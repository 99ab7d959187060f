import { z } from 'zod';

/**
 * Where control goes next — the handoff targets of both seeds. Targets are data: they travel in
 * turn results, and the coordinator resolves them.
 */

const agentName = z.string().min(1);

/** Hand control to a named agent. */
export const AgentTarget = z.object({ type: z.literal('agent'), agent: agentName });
/** Keep control with the current agent (it takes another turn). */
export const StayTarget = z.object({ type: z.literal('stay') });
/** End the conversation (with the last answer as its output). */
export const TerminateTarget = z.object({ type: z.literal('terminate') });
/** Wait for the user's next message, then continue with the agent that asked. */
export const RevertToUserTarget = z.object({ type: z.literal('revert_to_user') });
/**
 * Ask the user: they choose who continues (one of `choices`, default: every agent) or answer the
 * question, in which case the asking agent continues.
 */
export const AskUserTarget = z.object({
  type: z.literal('ask_user'),
  question: z.string().optional(),
  choices: z.array(agentName).optional(),
});
/** A random agent from a list, never the current one. */
export const RandomAgentTarget = z.object({ type: z.literal('random'), agents: z.array(agentName).min(1) });
/** A model picks the next speaker from the candidates' names and descriptions. */
export const GroupManagerTarget = z.object({
  type: z.literal('group_manager'),
  /** Who may be picked. @defaultValue every agent but the current one */
  candidates: z.array(agentName).optional(),
  /** Extra guidance for the selection. */
  selectionMessage: z.string().optional(),
  /** Selection attempts before the deterministic fallback (the next candidate in order). @defaultValue 3 */
  attempts: z.number().int().min(1).max(10).optional(),
});
/**
 * Nested chats: a sequence of sub-conversations, each started on its agent with the previous
 * one's output (the first with the caller's last message); the last output returns to the calling
 * agent as a summary, and the caller continues.
 */
export const NestedChatTarget = z.object({
  type: z.literal('nested_chat'),
  chats: z
    .array(
      z.object({
        agent: agentName,
        /** The opening message; `${var}` placeholders take context values. @defaultValue the carried-over text */
        message: z.string().optional(),
        maxHops: z.number().int().min(1).max(1_000).optional(),
      }),
    )
    .min(1),
});
/** A whole group chat (a sub-network under a pattern) whose result returns to the caller. */
export const GroupChatTarget = z.object({
  type: z.literal('group_chat'),
  /** The group's first speaker. */
  entry: agentName,
  /** Who takes part. @defaultValue every agent */
  agents: z.array(agentName).optional(),
  /** How the group continues after a turn without a handoff. @defaultValue 'default' */
  pattern: z.enum(['default', 'auto', 'round_robin', 'random']).optional(),
  /** The opening message. @defaultValue the caller's last message */
  message: z.string().optional(),
  maxHops: z.number().int().min(1).max(1_000).optional(),
});

/** A router of the network (a pool or a capability router): the coordinator picks the agent. */
export const RouteTarget = z.object({ type: z.literal('route'), router: z.string().min(1) });

/** Every target. */
export const Target = z.discriminatedUnion('type', [
  RouteTarget,
  AgentTarget,
  StayTarget,
  TerminateTarget,
  RevertToUserTarget,
  AskUserTarget,
  RandomAgentTarget,
  GroupManagerTarget,
  NestedChatTarget,
  GroupChatTarget,
]);
/** Every target. */
export type Target = z.infer<typeof Target>;
/** The `type` of a {@link Target}. */
export type TargetType = Target['type'];

/** A target, or an agent name for the plain agent target. */
export type TargetSpec = Target | string;

/**
 * A {@link Target} whose agent names are the literal type `Name`: what the {@link to} builders
 * return, so that `defineNetwork` can check at compile time that every agent a target names is in
 * the network. Assignable to {@link Target}.
 */
export type NamedTarget<Name extends string = string> =
  | { type: 'agent'; agent: Name }
  | { type: 'ask_user'; question?: string; choices?: Name[] }
  | { type: 'random'; agents: Name[] }
  | { type: 'group_manager'; candidates?: Name[]; selectionMessage?: string; attempts?: number }
  | { type: 'nested_chat'; chats: { agent: Name; message?: string; maxHops?: number }[] }
  | ({ type: 'group_chat'; entry: Name; agents?: Name[] } & Omit<z.infer<typeof GroupChatTarget>, 'type' | 'entry' | 'agents'>)
  | Extract<Target, { type: 'route' | 'stay' | 'terminate' | 'revert_to_user' }>;

/** A target spec whose agent names are `Name`: an agent name, or a {@link NamedTarget}. */
export type NamedTargetSpec<Name extends string = string> = Name | NamedTarget<Name>;

/** The target a spec stands for. */
export function toTarget(spec: TargetSpec): Target {
  return typeof spec === 'string' ? { type: 'agent', agent: spec } : spec;
}

/**
 * Builders for every target, e.g. `to.agent('Billing')`, `to.revertToUser()`. Agent names keep
 * their literal types, so a name that is not in the network fails `tsc` at `defineNetwork`.
 */
export const to = {
  agent: <const Name extends string>(agent: Name): NamedTarget<Name> & { type: 'agent' } => ({ type: 'agent', agent }),
  route: (router: string): Extract<Target, { type: 'route' }> => ({ type: 'route', router }),
  stay: (): Extract<Target, { type: 'stay' }> => ({ type: 'stay' }),
  terminate: (): Extract<Target, { type: 'terminate' }> => ({ type: 'terminate' }),
  revertToUser: (): Extract<Target, { type: 'revert_to_user' }> => ({ type: 'revert_to_user' }),
  askUser: <const Name extends string = never>(options: { question?: string; choices?: Name[] } = {}): NamedTarget<Name> => ({ type: 'ask_user', ...options }),
  random: <const Name extends string>(agents: Name[]): NamedTarget<Name> => ({ type: 'random', agents }),
  groupManager: <const Name extends string = never>(options: { candidates?: Name[]; selectionMessage?: string; attempts?: number } = {}): NamedTarget<Name> => ({ type: 'group_manager', ...options }),
  nestedChat: <const Name extends string>(chats: { agent: Name; message?: string; maxHops?: number }[]): NamedTarget<Name> => ({ type: 'nested_chat', chats }),
  groupChat: <const Name extends string>(options: { entry: Name; agents?: Name[] } & Omit<z.infer<typeof GroupChatTarget>, 'type' | 'entry' | 'agents'>): NamedTarget<Name> => ({ type: 'group_chat', ...options }),
} as const;

/** The agent names a target refers to (for validation when the network is defined). */
export function targetAgents(target: Target): string[] {
  switch (target.type) {
    case 'agent':
      return [target.agent];
    case 'ask_user':
      return target.choices ?? [];
    case 'random':
      return target.agents;
    case 'group_manager':
      return target.candidates ?? [];
    case 'nested_chat':
      return target.chats.map((c) => c.agent);
    case 'group_chat':
      return [target.entry, ...(target.agents ?? [])];
    default:
      return [];
  }
}

/** A one-line description of a target, for events and logs. */
export function describeTarget(target: Target): string {
  switch (target.type) {
    case 'agent':
      return target.agent;
    case 'random':
      return `a random one of ${target.agents.join(', ')}`;
    case 'nested_chat':
      return `nested chats with ${target.chats.map((c) => c.agent).join(' → ')}`;
    case 'group_chat':
      return `a group chat from ${target.entry}`;
    case 'route':
      return `router ${target.router}`;
    default:
      return target.type.replace(/_/g, ' ');
  }
}
