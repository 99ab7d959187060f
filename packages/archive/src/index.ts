/**
 * `@handoff/archive`: finished conversations kept in PostgreSQL once they leave Redis, so each
 * can still be read by id (HTTP API, console, `handoff inspect`, the Redis client). Optional: the
 * gateway and the readers load it only when an archive is configured.
 *
 * @example
 * ```ts
 * import { PostgresArchive } from '@handoff/archive';
 * const archive = new PostgresArchive({ url: process.env.HANDOFF_ARCHIVE_URL!, table: 'handoff_conversations' });
 * const gateway = await startGateway({ network, archive: { store: archive, keepSeconds: 3600 } });
 * ```
 * @module
 */
export { PostgresArchive } from './postgres-archive.js';
export { PostgresArchiveOptions, type PostgresArchiveOptionsInput, type PostgresArchiveSettings } from './postgres-archive-options.js';
export { quoteTable, type QuotedTable } from './table-name.js';
