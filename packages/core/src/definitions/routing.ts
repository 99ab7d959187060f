import type { ContextVariables } from '../schemas/json.js';

/**
 * Routing policies: a router is a named handoff target (`to.route('name')`) that the coordinator
 * resolves to one agent, with a strategy. Built-in strategies are named by string; a custom one
 * implements {@link RoutingStrategy} — the built-ins are implemented on the same interface.
 */

/** What the coordinator tells a strategy when it must pick. */
export interface RoutingRequest {
  /** The router's name. */
  readonly router: string;
  /** The agents it may pick from (those with live workers first, when health is known). */
  readonly candidates: readonly string[];
  /** The agent that handed off, or null at the start of a conversation. */
  readonly from: string | null;
  readonly conversationId: string;
  /** The text to route on: the latest user message. */
  readonly text: string;
  readonly context: Readonly<ContextVariables>;
  /** Live facts and shared state the gateway provides. */
  readonly signals: RoutingSignals;
}

/** Live facts and shared state for strategies, backed by Redis. */
export interface RoutingSignals {
  /** Hops waiting and running on an agent's queue, read live. */
  load(agent: string): Promise<{ waiting: number; active: number }>;
  /** Worker processes of an agent that sent a heartbeat recently. */
  liveWorkers(agent: string): Promise<number>;
  /** A counter shared by every gateway replica (INCR); returns the value after incrementing. */
  next(counter: string): Promise<number>;
  /** A random number in [0, 1). */
  random(): number;
  /** A value cached in Redis under `key` for `ttlSeconds`, computed once per key. */
  cached(key: string, ttlSeconds: number, compute: () => Promise<string>): Promise<string>;
  /** Asks the gateway's model to pick one of `labels` for `text` (capability routing by model). */
  classify(text: string, labels: readonly string[], instructions?: string): Promise<string>;
}

/** A strategy's pick. */
export interface RoutingChoice {
  agent: string;
  reason: string;
  details?: Record<string, unknown>;
}

/** A routing strategy (the seed's IRuntimeConfiguration idea, for one decision). */
export interface RoutingStrategy {
  readonly name: string;
  select(request: RoutingRequest): RoutingChoice | Promise<RoutingChoice>;
}

/** A pool of equivalent agents and how to pick among them; `Name` is its agents' names (literal types when built with {@link pool}). */
export interface PoolRouter<Name extends string = string> {
  readonly kind: 'pool';
  readonly agents: readonly Name[];
  readonly strategy: 'round_robin' | 'least_loaded' | 'random' | 'weighted' | RoutingStrategy;
  /** Relative weights for `weighted` (default 1 each). */
  readonly weights?: Readonly<Record<string, number>>;
}

/** Routing by the capability a request needs; `Name` is the names of the agents it may pick. */
export interface CapabilityRouter<Name extends string = string> {
  readonly kind: 'capability';
  /** Which agent serves each capability. */
  readonly capabilities: Readonly<Record<string, Name>>;
  /** The agent for anything else. */
  readonly default: Name;
  /** How the capability is found: a function, keyword rules (first capability whose keyword appears), or the model. */
  readonly classify:
    | ((text: string, context: Readonly<ContextVariables>) => string | undefined | Promise<string | undefined>)
    | { readonly keywords: Readonly<Record<string, readonly string[]>> }
    | { readonly model: true; readonly instructions?: string };
  /** How long a classification is cached per input text, in seconds. @defaultValue 3600 */
  readonly cacheSeconds?: number;
}

/** A router definition; `Name` is the names of the agents it may pick (checked by `defineNetwork`). */
export type RouterDefinition<Name extends string = string> = PoolRouter<Name> | CapabilityRouter<Name>;

/** Builds a pool router (its agents' names stay literal types, so `defineNetwork` rejects a typo). */
export function pool<const Name extends string>(agents: readonly Name[], strategy: PoolRouter['strategy'] = 'round_robin', weights?: Record<string, number>): PoolRouter<Name> {
  return Object.freeze({ kind: 'pool', agents, strategy, ...(weights ? { weights } : {}) });
}

/** Builds a capability router (its agents' names stay literal types, so `defineNetwork` rejects a typo). */
export function capabilityRouter<const Name extends string>(config: Omit<CapabilityRouter<Name>, 'kind'>): CapabilityRouter<Name> {
  return Object.freeze({ kind: 'capability', ...config });
}

/** The agents a router may pick. */
export function routerAgents(router: RouterDefinition): string[] {
  return router.kind === 'pool' ? [...router.agents] : [...new Set([...Object.values(router.capabilities), router.default])];
}
