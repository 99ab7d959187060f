/**
 * `@handoff/testing`: the test kit for Handoff networks.
 *
 * - A scripted OpenAI-compatible model server ({@link startScriptedModel}) that the official
 *   `openai` client talks to unchanged, with rule-based replies, tool calls, errors and held turns
 *   (also alone, without testcontainers, from `@handoff/testing/model`).
 * - Redis provisioning ({@link startRedis}) through testcontainers, a local `redis-server` or
 *   `REDIS_URL`, plus {@link RedisServerProcess} for crash-and-restart tests.
 * - PostgreSQL provisioning ({@link startPostgres}) through testcontainers, a private server
 *   process ({@link PostgresServerProcess}) or `HANDOFF_TEST_POSTGRES_URL`, and a closable
 *   {@link TcpRelay} for outage tests.
 * - A RESP-aware fault-injection proxy ({@link startRedisFaultProxy}) that counts the commands a
 *   client sends and cuts or freezes the traffic right after the k-th one, for crash-point tests.
 *
 * @packageDocumentation
 */

export * from './model.js';

export { startRedis, defaultRedisProviders } from './redis/start-redis.js';
export {
  REDIS_PROVIDERS,
  ProviderUnavailableError,
  type RedisProvider,
  type ProvisionedRedis,
  type StartRedisOptions,
} from './redis/provisioned-redis.js';
export { RedisServerProcess, type RedisServerProcessOptions } from './redis/redis-server-process.js';
export { findContainerEngine, type ContainerEngine, type ContainerEngineProbe } from './redis/container-engine.js';
export { redisPing, waitForRedisPing, type WaitForPingOptions } from './redis/redis-ping.js';
export { findFreePort } from './redis/free-port.js';
export { startRedisFaultProxy, type RedisFaultProxy, type RedisFaultMode } from './redis/fault-proxy.js';

export { ManagedProcess, type ManagedProcessOptions, type ProcessExit } from './process/managed-process.js';

export { startPostgres, defaultPostgresProviders } from './postgres/start-postgres.js';
export { POSTGRES_PROVIDERS, type PostgresProvider, type ProvisionedPostgres, type StartPostgresOptions } from './postgres/provisioned-postgres.js';
export { PostgresServerProcess, type PostgresServerProcessOptions } from './postgres/postgres-server-process.js';
export { findPostgresBinaries, postgresServerUser, type PostgresBinaries } from './postgres/postgres-binaries.js';
export { DEFAULT_POSTGRES_IMAGE } from './postgres/postgres-container.js';
export { TcpRelay } from './postgres/tcp-relay.js';
