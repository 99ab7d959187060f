import pino, { type Logger } from 'pino';
import { DEFAULT_DRAIN_TIMEOUT_MS, WORKER_HEARTBEAT_INTERVAL_MS, LOG_REDACTION, DefinitionError, UnknownAgentError, newInstanceId, type NetworkDefinition } from '@handoff/core';
import { McpConnections } from './mcp/mcp-connections.js';
import { functionTurnTool, mcpTurnTool, type TurnTool } from './turn/turn-tools.js';
import { ConversationStore, CoordinatorPartitions, EventLog, QueueSet, TurnInbox, TurnJournal, closeConnection, openProcessConnections, quietErrors, resolveRedisConfig, type RedisConfig } from '@handoff/redis';

import { AgentWorker, type AgentWorkerOptions } from './agent-worker.js';
import { HistoryCache, type HistoryCacheOptions } from './history-cache.js';
import { ModelClients } from './model/model-clients.js';
import { agentsMissingApiKey } from './model/missing-api-key.js';

/** Options of {@link startWorkers}. */
export interface WorkerProcessOptions extends Omit<AgentWorkerOptions, 'connection'> {
  /** The network whose agents to run. */
  network: NetworkDefinition;
  /** Which agents this process serves. @defaultValue every agent of the network */
  agents?: readonly string[];
  /** Redis URL and key prefix. */
  redis?: RedisConfig;
  /** Logger. @defaultValue pino at `LOG_LEVEL` or info, to stderr */
  logger?: Logger;
  /** Bounds of the per-process cache of conversation histories. */
  historyCache?: HistoryCacheOptions;
  /** Run even if Redis may evict keys (its maxmemory-policy is not noeviction); only warns. */
  allowEviction?: boolean;
  /**
   * Journal each turn's completed model responses and tool results, so that a re-run of a hop
   * (after a crash, a stall or a drain) replays them instead of calling again. Off, a re-run calls
   * the model and runs every tool of the turn again. @defaultValue true
   */
  journal?: boolean;
}

/** The agent workers of one process. */
export interface WorkerGroup {
  /** This process's worker id (in its hop leases and in turn results). */
  readonly workerId: string;
  /** The agents served. */
  readonly agents: readonly string[];
  /** The per-agent handlers (tests drive them directly). */
  readonly handlers: ReadonlyMap<string, AgentWorker>;
  /** The process's history cache, shared by its agents (its counters say how many turn inputs were read ahead). */
  readonly historyCache: HistoryCache;
  /** Resolves once every agent's worker is connected and consuming. */
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs, lets running turns finish, closes connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts workers for agents of a network: one consumer per agent, each on the agent's own hop
 * lane. Run as many such processes as you like, on as many machines as share the Redis; they
 * share each agent's lane.
 *
 * @throws {@link UnknownAgentError} when `agents` names an agent the network does not have.
 * @example
 * ```ts
 * const workers = await startWorkers({ network, agents: ['Billing'], concurrency: 16 });
 * process.on('SIGTERM', () => void workers.close());
 * ```
 */
export async function startWorkers(options: WorkerProcessOptions): Promise<WorkerGroup> {
  const { network } = options;
  const agents = options.agents && options.agents.length > 0 ? [...options.agents] : [...network.agentNames];
  for (const agent of agents) if (!network.agentNames.includes(agent)) throw new UnknownAgentError(agent, network.agentNames, '--agents');

  const config = resolveRedisConfig(options.redis);
  const workerId = newInstanceId('worker');
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'worker', base: { workerId }, redact: LOG_REDACTION }, pino.destination(2));
  for (const { baseURL, agents: without } of agentsMissingApiKey(network, agents)) {
    logger.warn(
      { agents: without, baseURL, variable: 'OPENAI_API_KEY' },
      'OPENAI_API_KEY is not set: OpenAI will refuse these agents\' model calls (401). Set OPENAI_API_KEY (or the agent\'s model.apiKey), or OPENAI_BASE_URL for an endpoint that needs no key',
    );
  }
  const { commands, blocking } = await openProcessConnections(config, { commands: `handoff-${workerId}`, blocking: `handoff-${workerId}-jobs` }, { allowEviction: options.allowEviction, warn: (message) => logger.warn(message) }, logger);
  const store = new ConversationStore(commands, config.keys);
  const events = new EventLog(commands, config.keys);
  const partitions = new CoordinatorPartitions({ redis: commands, keys: config.keys });
  const queues = new QueueSet(commands, config.prefix, partitions);
  const inbox = new TurnInbox(commands, config.keys, partitions);
  const journal = options.journal === false ? undefined : new TurnJournal(commands, config.keys);
  const clients = new ModelClients(workerId);
  const historyCache = new HistoryCache(options.historyCache);

  // Every served agent's MCP servers are started (or connected) once, before any job is taken.
  const mcp = new McpConnections(logger);
  try {
    for (const agent of agents) await mcp.prepare(agent, network.agent(agent).mcpServers);
  } catch (error) {
    await mcp.close();
    commands.disconnect();
    blocking.disconnect();
    throw error;
  }
  const toolsOf = (agent: string): TurnTool[] => {
    const definition = network.agent(agent);
    const tools = [...definition.tools.map(functionTurnTool), ...mcp.toolsOf(agent).map((tool) => mcpTurnTool(mcp, agent, tool))];
    const names = new Set(definition.handoffs.map((h) => h.toolName));
    for (const tool of tools) {
      if (names.has(tool.name)) throw new DefinitionError(`Agent "${agent}": two tools are named "${tool.name}" (check its MCP servers' tools against its function and transfer tools).`);
      names.add(tool.name);
    }
    return tools;
  };

  const handlers = new Map<string, AgentWorker>();
  for (const agent of agents) {
    const handler = new AgentWorker({ network, agent, store, events, queues, inbox, clients, historyCache, tools: toolsOf(agent), logger: logger.child({ agent }), workerId, journal });
    handlers.set(agent, handler);
    handler.start({ ...options, connection: blocking });
  }
  // Heartbeats say which agents have live workers (the coordinator routes around agents without).
  const beat = () =>
    Promise.all(agents.map((agent) => commands.zadd(config.keys.workers(agent), Date.now(), workerId))).catch((error: unknown) =>
      logger.warn({ err: error }, 'heartbeat failed'),
    );
  await beat();
  const heartbeat = setInterval(() => void beat(), WORKER_HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  // Cancelled conversations are announced on a channel; running turns of theirs are aborted.
  const subscriber = quietErrors(commands.duplicate());
  await subscriber.subscribe(config.keys.cancelChannel);
  subscriber.on('message', (_channel: string, conversationId: string) => {
    for (const handler of handlers.values()) handler.abortConversation(conversationId);
  });
  logger.info({ network: network.name, agents, prefix: config.prefix }, 'workers started');

  let closing: Promise<void> | undefined;
  return {
    workerId,
    agents,
    handlers,
    historyCache,
    waitUntilReady: async () => {
      await Promise.all([...handlers.values()].map((h) => h.waitUntilReady()));
    },
    close() {
      closing ??= (async () => {
        const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
        await Promise.all([...handlers.values()].map((h) => h.close(drainTimeoutMs)));
        clearInterval(heartbeat);
        await Promise.all(agents.map((agent) => commands.zrem(config.keys.workers(agent), workerId))).catch(() => undefined);
        subscriber.disconnect();
        await mcp.close();
        await queues.close();
        await Promise.all([closeConnection(commands), closeConnection(blocking)]);
        logger.info('workers stopped');
      })();
      return closing;
    },
  };
}
