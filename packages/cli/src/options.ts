import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ArchiveTableName, ArchiveUrl, DefinitionError, formatIssues, parseBoundary } from '@handoff/core';

/** A list given as "a,b,c" (flags, environment) or as an array (config file). */
const list = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : value.split(',')).map((v) => v.trim()).filter(Boolean));

/** How long a one-shot command waits for Redis (`--connect-timeout`, `HANDOFF_CONNECT_TIMEOUT_MS`), in ms: 100 ms to 10 minutes. */
export const ConnectTimeout = z.coerce.number().int().min(100).max(600_000);

/** Flags shared by the commands that run a network. */
export const RunFlags = z.object({
  network: z.string().min(1, 'is required: the path of a module whose default export is the network'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  prefix: z.string().regex(/^(\{[A-Za-z0-9_.-]{1,64}\}|[A-Za-z0-9_.-]{1,64})$/, 'must be 1-64 letters, digits, ".", "_" or "-", optionally in braces (a Redis Cluster hash tag)').optional(),
  redisCluster: z.boolean().optional(),
  connectTimeout: ConnectTimeout.optional(),
  concurrency: z.coerce.number().int().min(1).max(10_000).optional(),
  lockDuration: z.coerce.number().int().min(100).max(3_600_000).optional(),
  stalledInterval: z.coerce.number().int().min(50).max(3_600_000).optional(),
  maxStalledCount: z.coerce.number().int().min(0).max(1_000).optional(),
  drainTimeout: z.coerce.number().int().min(0).max(3_600_000).optional(),
  allowEviction: z.boolean().optional(),
  journal: z.boolean().optional(),
  httpPort: z.coerce.number().int().min(0).max(65_535).optional(),
  httpHost: z.string().min(1).optional(),
  apiKeys: list.optional(),
  auth: z.boolean().optional(),
  corsOrigin: list.optional(),
  retention: z.coerce.number().int().min(60).max(365 * 24 * 3600).optional(),
  eventRetention: z.coerce.number().int().min(60).max(365 * 24 * 3600).optional(),
  dlqMaxAge: z.coerce.number().int().min(1_000).max(10 * 365 * 24 * 3600 * 1000).optional(),
  dlqMaxCount: z.coerce.number().int().min(0).max(100_000_000).optional(),
  reconcileAfter: z.coerce.number().int().min(100).max(24 * 3600 * 1000).optional(),
  coordinatorPartitions: z.coerce.number().int().min(1).max(1024).optional(),
  reconcileInterval: z.coerce.number().int().min(50).max(3600 * 1000).optional(),
  agents: list.optional(),
  archiveUrl: ArchiveUrl.optional(),
  archiveTable: ArchiveTableName.optional(),
  archiveKeep: z.coerce.number().int().min(1).max(365 * 24 * 3600).optional(),
});
/** Flags shared by the commands that run a network. */
export type RunFlags = z.output<typeof RunFlags>;

/** Validates command flags; the error names each bad flag. */
export function parseFlags(raw: Record<string, unknown>): RunFlags {
  const { config, ...flags } = raw;
  const fromFile = typeof config === 'string' ? readConfigFile(config) : {};
  return parseWith(RunFlags, { ...fromFile, ...flagsFromEnvironment(), ...flags });
}

/** The archive flags of the commands that only read a deployment (`inspect`). */
export const ArchiveFlags = RunFlags.pick({ archiveUrl: true, archiveTable: true });
/** The archive flags of the commands that only read a deployment. */
export type ArchiveFlags = z.output<typeof ArchiveFlags>;

/** Validates the archive flags of a reading command (flags, then config file, then environment); the error names each bad flag. */
export function parseArchiveFlags(raw: Record<string, unknown>): ArchiveFlags {
  const fromFile = typeof raw.config === 'string' ? readConfigFile(raw.config) : {};
  const pick = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).filter(([key, value]) => (key === 'archiveUrl' || key === 'archiveTable') && value !== undefined));
  return parseWith(ArchiveFlags, { ...pick(fromFile), ...pick(flagsFromEnvironment()), ...pick(raw) });
}

function parseWith<S extends z.ZodType>(schema: S, values: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error).map((line) => `--${line.replace(/^(\w+)/, (m) => m.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))}`);
  throw new DefinitionError(`Invalid options: ${issues.join('; ')}`, { details: { issues } });
}

/** Flag values from HANDOFF_* environment variables (flags given on the command line win). */
function flagsFromEnvironment(): Record<string, unknown> {
  const env = process.env;
  const entries: [string, string | boolean | undefined][] = [
    ['connectTimeout', env.HANDOFF_CONNECT_TIMEOUT_MS],
    ['lockDuration', env.HANDOFF_LOCK_DURATION_MS],
    ['stalledInterval', env.HANDOFF_STALLED_INTERVAL_MS],
    ['maxStalledCount', env.HANDOFF_MAX_STALLED_COUNT],
    ['drainTimeout', env.HANDOFF_DRAIN_TIMEOUT_MS],
    ['allowEviction', env.HANDOFF_ALLOW_EVICTION === undefined ? undefined : ['1', 'true', 'yes'].includes(env.HANDOFF_ALLOW_EVICTION)],
    ['journal', env.HANDOFF_JOURNAL === undefined ? undefined : !['0', 'off', 'false', 'no'].includes(env.HANDOFF_JOURNAL)],
    ['httpPort', env.HANDOFF_HTTP_PORT],
    ['apiKeys', env.HANDOFF_API_KEYS],
    ['auth', env.HANDOFF_AUTH === undefined ? undefined : !['0', 'off', 'false', 'no'].includes(env.HANDOFF_AUTH)],
    ['corsOrigin', env.HANDOFF_CORS_ORIGINS],
    ['retention', env.HANDOFF_RETENTION_SECONDS],
    ['eventRetention', env.HANDOFF_EVENT_RETENTION_SECONDS],
    ['dlqMaxAge', env.HANDOFF_DLQ_MAX_AGE_MS],
    ['dlqMaxCount', env.HANDOFF_DLQ_MAX_COUNT],
    ['reconcileAfter', env.HANDOFF_RECONCILE_AFTER_MS],
    ['coordinatorPartitions', env.HANDOFF_COORDINATOR_PARTITIONS],
    ['reconcileInterval', env.HANDOFF_RECONCILE_INTERVAL_MS],
    ['archiveUrl', env.HANDOFF_ARCHIVE_URL],
    ['archiveTable', env.HANDOFF_ARCHIVE_TABLE],
    ['archiveKeep', env.HANDOFF_ARCHIVE_KEEP_SECONDS],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

/** Lock, stall and shutdown settings the flags give, for workers and the gateway alike. */
export function durabilityFromFlags(flags: RunFlags): {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  drainTimeoutMs?: number;
  allowEviction?: boolean;
} {
  return {
    ...(flags.lockDuration === undefined ? {} : { lockDurationMs: flags.lockDuration }),
    ...(flags.stalledInterval === undefined ? {} : { stalledIntervalMs: flags.stalledInterval }),
    ...(flags.maxStalledCount === undefined ? {} : { maxStalledCount: flags.maxStalledCount }),
    ...(flags.drainTimeout === undefined ? {} : { drainTimeoutMs: flags.drainTimeout }),
    ...(flags.allowEviction === undefined ? {} : { allowEviction: flags.allowEviction }),
  };
}

/** The Redis settings the flags give (environment defaults apply to the rest). */
export function redisConfigFromFlags(flags: RunFlags): { url?: string; prefix?: string; cluster?: boolean } {
  return {
    ...(flags.redisUrl ? { url: flags.redisUrl } : {}),
    ...(flags.prefix ? { prefix: flags.prefix } : {}),
    ...(flags.redisCluster === undefined ? {} : { cluster: flags.redisCluster }),
  };
}

/**
 * The connect timeout of a one-shot command from its flag, its config file or the environment.
 * @throws ValidationError naming `--connect-timeout` when it is not a number of milliseconds in range
 */
export function connectTimeoutOf(flag: unknown, fromFile: unknown): number | undefined {
  const value = flag ?? fromFile ?? process.env.HANDOFF_CONNECT_TIMEOUT_MS;
  return value === undefined ? undefined : parseBoundary(ConnectTimeout, value, '--connect-timeout (or HANDOFF_CONNECT_TIMEOUT_MS)');
}

/** The settings of a config file: the flags' names in camelCase, e.g. `{ "redisUrl": "...", "agents": ["Billing"] }`. */
export const ConfigFile = RunFlags.partial().strict();

/**
 * Reads a JSON config file. Flags and HANDOFF_* environment variables override its values.
 * @throws {@link DefinitionError} naming the file and each bad field.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DefinitionError(`--config ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error);
    throw new DefinitionError(`--config ${path}: ${issues.join('; ')}`, { details: { issues } });
  }
  return raw as Record<string, unknown>;
}
