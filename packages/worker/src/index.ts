/**
 * `@handoff/worker`: runs the agents of a Handoff network as BullMQ workers. Each job is one hop:
 * one agent turn — the model called through the official `openai` client, streamed, with the
 * agent's handoffs offered as transfer tools — whose result goes to the coordinator.
 *
 * @example
 * ```ts
 * import { startWorkers } from '@handoff/worker';
 * import network from './network.js';
 * const workers = await startWorkers({ network, agents: ['SpanishAgent'] });
 * ```
 * @module
 */
export { startWorkers, type WorkerGroup, type WorkerProcessOptions } from './start-workers.js';
export { HopConsumer, type HopConsumerOptions, type HopHandler } from './hop-consumer.js';
export { AgentWorker, type AgentWorkerDeps, type AgentWorkerOptions, type HopOutcome, type HopJobInfo } from './agent-worker.js';
export { runTurn, type TurnInput, type TurnRun, type ModelTime } from './turn/run-turn.js';
export { transferTools, parseToolArguments, type TransferTool, type ParsedArguments } from './turn/transfer-tools.js';
export { TurnEvents } from './turn/turn-events.js';
export { HistoryCache, type HistoryCacheOptions } from './history-cache.js';
export { ModelClients } from './model/model-clients.js';
export { streamCompletion, type CompletionRequest, type CompletionOutcome } from './model/stream-completion.js';
export { toModelError } from './model/model-errors.js';
export { McpConnections, MCP_IDEMPOTENCY_KEY_META, type McpTool, type McpCallResult } from './mcp/mcp-connections.js';
export { functionTurnTool, mcpTurnTool, type TurnTool } from './turn/turn-tools.js';
