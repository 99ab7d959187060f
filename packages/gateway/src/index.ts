/**
 * `@handoff/gateway`: the coordinator of a Handoff network. It applies every turn to its
 * conversation exactly once, enforces limits, and publishes the next hop.
 *
 * @example
 * ```ts
 * import { startGateway } from '@handoff/gateway';
 * import network from './network.js';
 * const gateway = await startGateway({ network });
 * process.on('SIGTERM', () => void gateway.close());
 * ```
 * @module
 */
export { startGateway, type Gateway, type GatewayOptions, type GatewayArchiveOptions } from './gateway.js';
export { Archiver, retryDelayMs, type ArchiverOptions, type ArchiverDeps, type ArchiveReport, type ArchiveOutcome, type ArchiverObserver } from './coordinator/archiver.js';
export { enqueueArchive, releaseArchiveEntry } from './coordinator/archive-queue.js';
export { Coordinator, type CoordinatorDeps, type CoordinatorOptions, type CoordinatorJobOutcome } from './coordinator/coordinator.js';
export { decideStart, inputMessages, type Decision } from './coordinator/decide-start.js';
export { decideTurn } from './coordinator/decide-turn.js';
export { dispatchPendingHop } from './coordinator/dispatch.js';
export { decideFailure } from './coordinator/decide-failure.js';
export { FailureSweeper, type FailureSweeperOptions } from './coordinator/failure-sweeper.js';
export { MAX_STORED_START_TRIES, Reconciler, type ReconcilerOptions, type ReconcilerDeps, type ReconcileReport, type Repair } from './coordinator/reconciler.js';
export { TurnInboxConsumer, type TurnInboxConsumerDeps, type TurnInboxConsumerOptions } from './coordinator/turn-inbox-consumer.js';
export { Housekeeping, type HousekeepingOptions, type HousekeepingDeps, type HousekeepingReport } from './coordinator/housekeeping.js';
export { HealthView, HEARTBEAT_TTL_MS } from './routing/health.js';
export { Routers, type RouteDecision } from './routing/router.js';
export { roundRobin, leastLoaded, randomPick, weighted, poolStrategy, capabilityStrategy } from './routing/strategies.js';
export { decideUserMessage } from './coordinator/decide-user-message.js';
export { decideChildDone } from './coordinator/decide-child-done.js';
export { routeTarget, continueWith, pingPongLength } from './coordinator/route-target.js';
export { createHttpApp, type HttpOptions, type HttpDeps } from './http/app.js';
export { GatewayMetrics } from './http/metrics.js';
export { listen, type HttpServer } from './http/server.js';
export { statusOf } from './http/error-status.js';
export type { CoordinatorObserver } from './coordinator/coordinator.js';
