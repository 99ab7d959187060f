/**
 * Defaults that every Handoff process shares. Each is finite: nothing in the runtime is unbounded
 * unless a caller says so explicitly.
 * @module
 */

/** The envelope and job schema version this build reads and writes. */
export const SCHEMA_VERSION = 1 as const;

/** Default cap on agent turns (hops) per conversation, as in the OpenAI Agents SDK. */
export const DEFAULT_MAX_HOPS = 10;

/** Default cap on consecutive handoffs back and forth between the same two agents (ping-pong). */
export const DEFAULT_MAX_PING_PONG = 6;

/** How often a worker process sends its heartbeat (what routing health reads). */
export const WORKER_HEARTBEAT_INTERVAL_MS = 1_000;

/** A worker whose last heartbeat is older than this counts as dead: its agent is routed around to a fallback with a live worker. */
export const WORKER_HEARTBEAT_TTL_MS = 3_000;

/** How long a capability router keeps a text's classification, in seconds (`capabilityRouter({ cacheSeconds })`). */
export const DEFAULT_CLASSIFICATION_CACHE_SECONDS = 3_600;

/** How often the group manager's model is asked again when its reply names no candidate or several (`to.groupManager({ attempts })`). */
export const DEFAULT_GROUP_MANAGER_ATTEMPTS = 3;

/** Attempts of a hop job whose turn throws (not a model error, which ends the turn with an error): then it is dead-lettered and its conversation ends HOP_FAILED or falls back. */
export const HOP_JOB_ATTEMPTS = 5;

/** Default cap on model calls inside one agent turn (tool rounds, retries of invalid calls). */
export const DEFAULT_MAX_TOOL_ROUNDS = 8;

/** Default Redis key prefix; one prefix holds one deployment (one network). */
export const DEFAULT_KEY_PREFIX = 'handoff';

/**
 * Largest envelope, in bytes of JSON, a worker accepts. The history is not in the envelope, so
 * only context variables and handoff arguments can make it large.
 */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** Largest coordinator job (start command or turn result), in bytes of JSON. */
export const MAX_COORDINATOR_JOB_BYTES = 8 * 1024 * 1024;

/**
 * Largest turn journal of one hop, in bytes of its entries' JSON: a turn whose journal would grow
 * past it goes on unjournaled (a re-run calls again from where the journal stops).
 */
export const MAX_TURN_JOURNAL_BYTES = 8 * 1024 * 1024;

/** How much longer than a tool's timeout its claim in the turn journal lives, should its worker die mid-call. */
export const TOOL_CLAIM_MARGIN_MS = 2_000;

/** How often a run that waits on another run's claim of a tool call looks again. */
export const TOOL_CLAIM_POLL_MS = 100;

/** Drain timeout on SIGTERM: running turns get this long to finish before they are handed back. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/** How often the gateway moves jobs that failed for good to the dead-letter queue. */
export const DEFAULT_SWEEP_INTERVAL_MS = 1_000;

/**
 * Coordinator queue partitions of a deployment (each its own queue and Redis Cluster slot). Every
 * gateway consumes all of them; the gateway registers the count, and clients and workers read it.
 */
export const DEFAULT_COORDINATOR_PARTITIONS = 8;

/** How long a client waits for the coordinator to confirm a command (user message, approval, cancel). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;

/** How long the coordinator's answer to a command is kept for its caller (seconds). */
export const COMMAND_REPLY_TTL_SECONDS = 3_600;

/** Operation ids of the latest commands remembered per conversation (older ones are refused as stale by their version anyway). */
export const MAX_OPERATIONS_REMEMBERED = 256;

/**
 * A conversation in flight without progress for this long is checked by the gateway's reconciler:
 * a pending hop with no job is published again, and one queued to an agent without a live worker
 * is routed to a fallback that has one.
 */
export const DEFAULT_RECONCILE_AFTER_MS = 10_000;

/** How often the reconciler looks for conversations without progress. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 2_000;

/** An admitted start that has not reached its agent's queue after this long no longer counts against `maxWaiting`. */
export const ADMISSION_HOLD_MS = 60_000;

/** Retries the model client makes on 408/409/429/5xx and connection errors, with backoff and jitter. */
export const DEFAULT_MODEL_MAX_RETRIES = 3;

/** Timeout of one model request, in milliseconds. */
export const DEFAULT_MODEL_TIMEOUT_MS = 120_000;

/**
 * Lease held on a running turn's hop (and BullMQ lock on a coordinator job), renewed every half of
 * it. Model calls take seconds to minutes, so BullMQ's 30 s default is too short to be the only margin.
 */
export const DEFAULT_LOCK_DURATION_MS = 60_000;

/** How often workers look for turns whose worker died: hops whose lease ran out (and BullMQ's `stalledInterval` for coordinator jobs). */
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;

/** How many times a turn may be recovered from a dead worker before it fails (BullMQ's default, for its jobs, is 1). */
export const DEFAULT_MAX_STALLED_COUNT = 3;

/** How long finished conversations (record, history) stay in Redis, in seconds. */
export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

/** Approximate cap on events kept per conversation stream. */
export const MAX_EVENTS_PER_CONVERSATION = 10_000;

/**
 * Deepest nesting of arrays and objects a JSON value may have in context variables and handoff
 * arguments (a value at the top level is depth 1). Deeper values are refused with VALIDATION_FAILED
 * before anything walks them recursively.
 */
export const MAX_JSON_DEPTH = 128;

/** Text deltas are batched into one event per this many milliseconds (or per {@link DELTA_FLUSH_CHARS}). */
export const DELTA_FLUSH_INTERVAL_MS = 50;

/** Text deltas are flushed once this many characters are buffered. */
export const DELTA_FLUSH_CHARS = 512;

/**
 * A turn's other events (agent started, tool called, tool result…) are written at most this many
 * milliseconds after they happen, together; those still unwritten when the turn ends go with its
 * result, in the same Redis call.
 */
export const EVENT_FLUSH_INTERVAL_MS = 20;

/**
 * How long a dead letter is kept, in milliseconds: the gateway's housekeeping removes older ones.
 * Nothing consumes the dead-letter queue, so without a bound it would grow forever.
 */
export const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** How many dead letters are kept at most: beyond it, the gateway's housekeeping removes the oldest. */
export const DEFAULT_DEAD_LETTER_MAX_COUNT = 10_000;

/**
 * A worker id whose last heartbeat is older than this, in milliseconds, is removed from its agent's
 * heartbeat set by the gateway's housekeeping (a crashed worker never removes itself). 20× the
 * heartbeat TTL the routing health check uses (3 s), so a live worker is never reaped.
 */
export const DEFAULT_WORKER_REAP_AGE_MS = 60_000;

/** How often the gateway's housekeeping trims the dead-letter queue and reaps stale heartbeats. */
export const DEFAULT_HOUSEKEEPING_INTERVAL_MS = 30_000;

/**
 * How long the event log of a finished conversation stays in Redis, in seconds (never longer than
 * the record's retention). Its record and history stay for {@link DEFAULT_RETENTION_SECONDS}; once
 * the log is gone, a replay yields only the terminal event, rebuilt from the record.
 */
export const DEFAULT_EVENT_RETENTION_SECONDS = 24 * 3600;

/**
 * How long, in milliseconds, the wake-up keys of a parked conversation outlive the park: its
 * result waiters' mark, and — once it finished — its live event stream (readers blocked on it
 * are woken by the park itself; later readers read the record and the compacted log).
 */
export const PARK_LINGER_MS = 2_000;

/** Seconds a finished conversation stays in Redis once it is archived (`--archive-keep`): reads within it need no archive. */
export const DEFAULT_ARCHIVE_KEEP_SECONDS = 3_600;

/** How often the gateway's archiver looks for finished conversations to archive. */
export const DEFAULT_ARCHIVE_INTERVAL_MS = 1_000;

/** Conversations archived per round at most. */
export const DEFAULT_ARCHIVE_BATCH = 100;

/** The first wait before a conversation whose archiving failed is tried again; it doubles per failure up to {@link MAX_ARCHIVE_RETRY_DELAY_MS}. */
export const ARCHIVE_RETRY_BASE_MS = 1_000;

/** The longest wait between two tries to archive one conversation. */
export const MAX_ARCHIVE_RETRY_DELAY_MS = 60_000;

/** Conversations one gateway writes to the archive at once (the archive's default pool holds 4 connections). */
export const DEFAULT_ARCHIVE_CONCURRENCY = 4;
