import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { RedisClient } from '@handoff/redis';
import { DEFAULT_COORDINATOR_PARTITIONS, ErrorCode, HandoffError, PayloadTooLargeError, routerAgents, type NetworkDefinition, type Target } from '@handoff/core';
import type { RedisHandoffClient } from '@handoff/client';
import type { QueueSet } from '@handoff/redis';
import type { HealthView } from '../routing/health.js';
import { bearerAuth, browserAuth } from './auth.js';
import { chatCompletionRoutes } from './chat-completions.js';
import { consoleRoutes } from './console-routes.js';
import type { ConversationIndex } from '../conversation-index.js';
import { conversationRoutes } from './conversation-routes.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { QUEUE_DASHBOARD_PATH, queueDashboardRoutes } from './queue-dashboard.js';
import { errorBody, statusOf } from './error-status.js';
import type { GatewayMetrics } from './metrics.js';

/** HTTP settings of the gateway. */
export interface HttpOptions {
  /** Port to listen on (0: any free one). */
  port: number;
  /** @defaultValue '0.0.0.0' */
  host?: string;
  /** Bearer tokens accepted on /v1. Required unless `auth` is false. */
  apiKeys?: readonly string[];
  /** Turn authentication off — for local use only, and only when said explicitly. @defaultValue true */
  auth?: boolean;
  /** Origins allowed by CORS. @defaultValue none */
  corsOrigins?: readonly string[];
  /** Largest request body, in bytes. @defaultValue 4 MiB */
  bodyLimitBytes?: number;
}

/** What the HTTP API is built on. */
export interface HttpDeps {
  network: NetworkDefinition;
  client: RedisHandoffClient;
  queues: QueueSet;
  health: HealthView;
  metrics: GatewayMetrics;
  redis: RedisClient;
  /** The list of recent conversations (the coordinator's; `GET /:id` adds one opened by id). */
  index: ConversationIndex;
  /** True while the coordinator consumes its queue. */
  coordinatorRunning: () => boolean;
  /** Whether the network's registration is in Redis (clients refuse starts without it). @defaultValue always */
  networkRegistered?: () => boolean;
  /** The coordinator queue partitions the gateway consumes (shown in the queue dashboard). @defaultValue {@link DEFAULT_COORDINATOR_PARTITIONS} */
  coordinatorPartitions?: number;
}

/**
 * The agents a target can hand control to, by name: an agent, the agents of a router, a random
 * pick's candidates. Other targets (stay, terminate, the user, group managers, nested and group
 * chats) draw no edge.
 */
function targetEdges(network: NetworkDefinition, target: Target): string[] {
  if (target.type === 'agent') return [target.agent];
  if (target.type === 'route') {
    const router = network.routers[target.router];
    return router ? routerAgents(router) : [];
  }
  if (target.type === 'random') return [...target.agents];
  return [];
}

/** The targets of an agent's handoffs, context conditions and after-work rules. */
function ruleTargets(network: NetworkDefinition, name: string): Target[] {
  const agent = network.agent(name);
  return [...agent.handoffs, ...agent.contextConditions, ...agent.afterWork].map((rule) => rule.target);
}

/** An agent's handoff targets by agent name (routers expanded to their agents). */
function handoffTargets(network: NetworkDefinition, name: string): string[] {
  return [...new Set(ruleTargets(network, name).flatMap((target) => targetEdges(network, target)))].filter((target) => target !== name);
}

/** The routers an agent can hand to. */
function handoffRouters(network: NetworkDefinition, name: string): string[] {
  return [...new Set(ruleTargets(network, name).flatMap((target) => (target.type === 'route' ? [target.router] : [])))];
}

/**
 * The gateway's HTTP API: conversations (start, list, read, result, SSE events, messages, cancel),
 * agents, dead letters, an OpenAI-compatible chat completions endpoint, health, readiness,
 * Prometheus metrics, and the web console's static files. One error handler maps error codes to
 * statuses with a `{ error: { code, message, retryable, details } }` body.
 */
export function createHttpApp(deps: HttpDeps, options: HttpOptions): Hono {
  const auth = options.auth ?? true;
  const keys = options.apiKeys ?? [];
  if (auth && keys.length === 0) {
    throw new HandoffError(ErrorCode.INVALID_DEFINITION, 'The HTTP API needs API keys (--api-keys or HANDOFF_API_KEYS), or authentication turned off explicitly (--no-auth) for local use.');
  }
  const limit = options.bodyLimitBytes ?? 4 * 1024 * 1024;
  const app = new Hono();

  app.onError((error, c) => {
    const body = errorBody(error);
    return c.json(body, statusOf(body.error.code) as 400);
  });
  app.notFound((c) => c.json(errorBody(new HandoffError(ErrorCode.NOT_FOUND, `No route ${c.req.method} ${c.req.path}.`)), 404));
  if (options.corsOrigins?.length) app.use('*', cors({ origin: [...options.corsOrigins], allowHeaders: ['authorization', 'content-type', 'last-event-id'], exposeHeaders: ['x-handoff-conversation-id'] }));

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const redisOk = await deps.redis.ping().then(() => true, () => false);
    const registered = deps.networkRegistered?.() ?? true;
    const coordinator = deps.coordinatorRunning();
    const ready = redisOk && coordinator && registered;
    return c.json({ ready, redis: redisOk, coordinator, networkRegistered: registered }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.text(), 200, { 'content-type': deps.metrics.registry.contentType }));
  app.route('/', consoleRoutes());

  const routers = Object.fromEntries(Object.entries(deps.network.routers).map(([name, router]) => [name, routerAgents(router)]));
  const edges = new Map(deps.network.agentNames.map((name) => [name, { handoffTargets: handoffTargets(deps.network, name), handoffRouters: handoffRouters(deps.network, name) }]));

  // Bull Board over the queues, behind the same keys (HTTP Basic for browsers).
  if (auth) app.use(`${QUEUE_DASHBOARD_PATH}/*`, browserAuth(keys));
  if (auth) app.use(QUEUE_DASHBOARD_PATH, browserAuth(keys));
  app.route(QUEUE_DASHBOARD_PATH, queueDashboardRoutes(deps.network, deps.queues, deps.coordinatorPartitions ?? DEFAULT_COORDINATOR_PARTITIONS));

  const v1 = new Hono();
  v1.use('*', bodyLimit({ maxSize: limit, onError: () => { throw new PayloadTooLargeError('The request body', limit + 1, limit); } }));
  if (auth) v1.use('*', bearerAuth(keys));
  v1.route('/conversations', conversationRoutes(deps.client, deps.index));
  v1.route('/chat', chatCompletionRoutes(deps.client));
  v1.route('/dead-letters', deadLetterRoutes(deps.queues));
  v1.get('/agents', async (c) => {
    const agents = await Promise.all(
      deps.network.agentNames.map(async (name) => {
        const counts = await deps.queues.lane(name).counts();
        const agent = deps.network.agent(name);
        return {
          name,
          description: agent.description,
          handoffs: agent.handoffs.map((h) => h.toolName),
          ...edges.get(name),
          fallbacks: [...agent.fallbacks],
          liveWorkers: await deps.health.liveWorkers(name),
          waiting: counts.waiting + counts.retrying,
          active: counts.active,
        };
      }),
    );
    return c.json({ network: deps.network.name, entry: deps.network.entry, agents, routers: Object.keys(deps.network.routers), routerAgents: routers });
  });
  v1.get('/models', (c) =>
    c.json({ object: 'list', data: [...deps.network.agentNames, ...Object.keys(deps.network.routers)].map((id) => ({ id, object: 'model', created: 0, owned_by: deps.network.name })) }),
  );
  app.route('/v1', v1);
  return app;
}
