import type { RedisClient } from '@handoff/redis';
import OpenAI from 'openai';
import { ErrorCode, HandoffError, routerAgents, type ContextVariables, type KeyLayout, type NetworkDefinition, type RoutingChoice, type RoutingSignals } from '@handoff/core';
import type { QueueSet } from '@handoff/redis';
import type { HealthView } from './health.js';
import { capabilityStrategy, poolStrategy } from './strategies.js';

/** A router's decision, as the coordinator records it. */
export interface RouteDecision extends RoutingChoice {
  router: string;
  strategy: string;
}

/**
 * Resolves router targets to agents: candidates are the router's agents, narrowed to those with
 * live workers when any has one (health), then the router's strategy picks.
 */
export class Routers {
  private model: OpenAI | undefined;
  readonly signals: RoutingSignals;

  constructor(
    private readonly network: NetworkDefinition,
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly queues: QueueSet,
    private readonly health: HealthView,
  ) {
    this.signals = {
      load: async (agent) => {
        const counts = await this.queues.lane(agent).counts();
        return { waiting: counts.waiting + counts.retrying, active: counts.active };
      },
      liveWorkers: (agent) => this.health.liveWorkers(agent),
      next: (counter) => this.redis.incr(this.keys.router(counter, 'counter')),
      random: () => Math.random(),
      cached: async (key, ttlSeconds, compute) => {
        const redisKey = this.keys.router(key.slice(0, 200), 'cache');
        const hit = await this.redis.get(redisKey);
        if (hit !== null) return hit;
        const value = await compute();
        await this.redis.set(redisKey, value, 'EX', ttlSeconds);
        return value;
      },
      classify: (text, labels, instructions) => this.classify(text, labels, instructions),
    };
  }

  /** True when `name` is a router of the network. */
  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.network.routers, name);
  }

  /** Picks an agent for the router `name`. */
  async resolve(name: string, request: { from: string | null; conversationId: string; text: string; context: ContextVariables }): Promise<RouteDecision> {
    const router = this.network.routers[name];
    if (!router) throw new HandoffError(ErrorCode.ROUTING_FAILED, `Router "${name}" is not defined.`);
    const all = routerAgents(router);
    const live = (await Promise.all(all.map(async (agent) => ((await this.health.liveWorkers(agent)) > 0 ? agent : null)))).filter((a): a is string => a !== null);
    const candidates = live.length > 0 ? live : all;
    const strategy = router.kind === 'pool' ? poolStrategy(router) : capabilityStrategy(router);
    const choice = await strategy.select({ router: name, candidates, ...request, signals: this.signals });
    if (!all.includes(choice.agent)) {
      throw new HandoffError(ErrorCode.ROUTING_FAILED, `Router "${name}" (${strategy.name}) picked "${choice.agent}", which is not one of its agents (${all.join(', ')}).`);
    }
    return { ...choice, router: name, strategy: strategy.name, details: { ...choice.details, ...(live.length < all.length ? { withoutLiveWorkers: all.filter((a) => !live.includes(a)) } : {}) } };
  }

  private async classify(text: string, labels: readonly string[], instructions?: string): Promise<string> {
    const settings = this.network.model;
    this.model ??= new OpenAI({ ...(settings.baseURL ? { baseURL: settings.baseURL } : {}), apiKey: settings.apiKey ?? process.env.OPENAI_API_KEY ?? 'unset', maxRetries: settings.maxRetries, timeout: settings.timeoutMs });
    const completion = await this.model.chat.completions.create({
      model: settings.name,
      messages: [
        { role: 'system', content: `${instructions ?? 'Classify the request.'} Answer with exactly one of: ${labels.join(', ')}. Answer "none" if none fits.` },
        { role: 'user', content: text },
      ],
    });
    const answer = (completion.choices[0]?.message.content ?? '').trim().toLowerCase();
    return labels.find((label) => answer === label.toLowerCase()) ?? labels.find((label) => answer.includes(label.toLowerCase())) ?? '';
  }
}

