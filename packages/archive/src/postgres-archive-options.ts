import { z } from 'zod';
import { ArchiveTableName, ArchiveUrl, DEFAULT_ARCHIVE_TABLE } from '@handoff/core';

/**
 * Options of {@link PostgresArchive}, validated when it is created (an error names the field).
 * Every limit is finite by default.
 */
export const PostgresArchiveOptions = z.object({
  /** `postgres://user:password@host:5432/database` (the `pg` client's connection string; `?sslmode=…` as usual). */
  url: ArchiveUrl,
  /** The table, `name` or `schema.name`; created on first use. @defaultValue `handoff_conversations` */
  table: ArchiveTableName.default(DEFAULT_ARCHIVE_TABLE),
  /** Connections the archive opens at most. @defaultValue 4 */
  poolSize: z.number().int().min(1).max(100).default(4),
  /** Longest a statement may run before PostgreSQL cancels it (ms). @defaultValue 10 000 */
  statementTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Longest to wait for a connection (ms). @defaultValue 5 000 */
  connectTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  /** Largest conversation written, as JSON (bytes); a larger one is refused. @defaultValue 64 MiB */
  maxRowBytes: z.number().int().min(1_024).max(1_000_000_000).default(64 * 1024 * 1024),
});
/** What {@link PostgresArchive} is given. */
export type PostgresArchiveOptionsInput = z.input<typeof PostgresArchiveOptions>;
/** {@link PostgresArchiveOptions} with their defaults. */
export type PostgresArchiveSettings = z.output<typeof PostgresArchiveOptions>;
