/**
 * `@handoff/redis`: everything that more than one Handoff process does with Redis — connections,
 * the conversation store with its atomic apply step, the event log, the network registry, and
 * queue producers. Worker, gateway and client build on it; none of them reach into each other.
 * @module
 */
export * from './connection.js';
export * from './coalesce-writes.js';
export * from './process-connections.js';
export * from './reachability.js';
export * from './reconnect-logging.js';
export * from './apply-script.js';
export * from './record-codec.js';
export * from './event-log.js';
export * from './event-codec.js';
export * from './small-scripts.js';
export * from './eviction-policy.js';
export * from './conversation-store.js';
export * from './network-registry.js';
export * from './queues.js';
export * from './hop-lane.js';
export * from './dead-letters.js';
export * from './blocking-pool.js';
export * from './change-watcher.js';
export * from './archive-source.js';
export * from './turn-inbox.js';
export * from './turn-journal.js';
