import pg from 'pg';
import {
  ArchiveUnavailableError,
  ArchivedConversation,
  DefinitionError,
  PayloadTooLargeError,
  formatIssues,
  isHandoffError,
  parseBoundary,
  type ConversationArchive,
} from '@handoff/core';
import { PostgresArchiveOptions, type PostgresArchiveOptionsInput, type PostgresArchiveSettings } from './postgres-archive-options.js';
import { quoteTable, type QuotedTable } from './table-name.js';

/** PostgreSQL's code for a table that does not exist. */
const UNDEFINED_TABLE = '42P01';
/** PostgreSQL's codes for "already exists", which a concurrent `CREATE … IF NOT EXISTS` can still raise. */
const ALREADY_EXISTS = new Set(['42P07', '23505']);

/** One row of the archive table as `pg` returns it. */
interface ArchiveRow {
  conversation_id: string;
  record: unknown;
  history: unknown;
  events: unknown;
  ended_at: Date;
  archived_at: Date;
}

/**
 * The archive of finished conversations in a PostgreSQL table, through the `pg` client: one row
 * per conversation id (record, history and event log as `json`, with status, network, version,
 * incarnation and end time as columns to query by). The table and its indexes are created on first
 * use (`CREATE TABLE IF NOT EXISTS`). Writes are upserts: saving the same conversation again
 * replaces its row, unless the row holds a later version of the same incarnation.
 *
 * @example
 * ```ts
 * const archive = new PostgresArchive({ url: 'postgres://handoff:secret@db:5432/handoff' });
 * await startGateway({ network, archive: { store: archive } });
 * const conversation = await archive.load('c_…');
 * await archive.close();
 * ```
 */
export class PostgresArchive implements ConversationArchive {
  private readonly settings: PostgresArchiveSettings;
  private readonly table: QuotedTable;
  private readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;
  private closed: Promise<void> | undefined;

  /**
   * @param options - connection URL, table, limits (see {@link PostgresArchiveOptions})
   * @param onConnectionError - told about errors of idle connections (PostgreSQL went away);
   *   they are otherwise ignored: the next query opens a new connection.
   * @throws {@link DefinitionError} naming each invalid option.
   */
  constructor(options: PostgresArchiveOptionsInput, onConnectionError: (error: Error) => void = () => undefined) {
    const parsed = PostgresArchiveOptions.safeParse(options);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error);
      throw new DefinitionError(`Invalid archive options: ${issues.join('; ')}`, { details: { issues } });
    }
    this.settings = parsed.data;
    this.table = quoteTable(this.settings.table);
    this.pool = new pg.Pool({
      connectionString: this.settings.url,
      max: this.settings.poolSize,
      connectionTimeoutMillis: this.settings.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: this.settings.statementTimeoutMs,
      // The client's own limit, a little past the server's: a server that stops answering cannot hold a caller forever.
      query_timeout: this.settings.statementTimeoutMs + this.settings.connectTimeoutMs,
      application_name: 'handoff-archive',
    });
    // Without a listener an idle connection's error (the server restarted) would crash the process.
    this.pool.on('error', onConnectionError);
  }

  /** The table's name as configured (`handoff_conversations` by default). */
  get tableName(): string {
    return this.settings.table;
  }

  /**
   * Creates the table and its indexes if they do not exist (idempotent, safe from several
   * processes at once). Called by the first save (a load creates nothing: its user may only
   * read); call it at start to fail early.
   * @throws {@link ArchiveUnavailableError}
   */
  ensureTable(): Promise<void> {
    this.ready ??= this.createTable().catch((error: unknown) => {
      this.ready = undefined; // tried again by the next call
      throw error;
    });
    return this.ready;
  }

  /** @inheritDoc */
  async save(conversation: ArchivedConversation): Promise<void> {
    const valid = parseBoundary(ArchivedConversation, conversation, `Archived conversation ${conversation.conversationId}`);
    const record = JSON.stringify(valid.record);
    const history = JSON.stringify(valid.history);
    const events = JSON.stringify(valid.events);
    const bytes = record.length + history.length + events.length;
    if (bytes > this.settings.maxRowBytes) throw new PayloadTooLargeError(`Archived conversation ${valid.conversationId}`, bytes, this.settings.maxRowBytes);
    await this.ensureTable();
    const t = this.table.sql;
    await this.query('save', valid.conversationId, `
      INSERT INTO ${t} AS archived (conversation_id, status, network, epoch, version, record, history, events, ended_at, archived_at)
      VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8::json, to_timestamp($9::double precision / 1000), to_timestamp($10::double precision / 1000))
      ON CONFLICT (conversation_id) DO UPDATE SET
        status = EXCLUDED.status, network = EXCLUDED.network, epoch = EXCLUDED.epoch, version = EXCLUDED.version,
        record = EXCLUDED.record, history = EXCLUDED.history, events = EXCLUDED.events,
        ended_at = EXCLUDED.ended_at, archived_at = EXCLUDED.archived_at
      WHERE archived.epoch IS DISTINCT FROM EXCLUDED.epoch OR archived.version <= EXCLUDED.version`,
      [valid.conversationId, valid.record.status, valid.record.network, valid.record.epoch, valid.record.version, record, history, events, valid.endedAt, valid.archivedAt]);
  }

  /** @inheritDoc */
  async load(conversationId: string): Promise<ArchivedConversation | null> {
    // A reader creates nothing (its user may only SELECT): no table yet means nothing archived yet.
    let result: pg.QueryResult<ArchiveRow>;
    try {
      result = await this.query<ArchiveRow>('load', conversationId, `SELECT conversation_id, record, history, events, ended_at, archived_at FROM ${this.table.sql} WHERE conversation_id = $1`, [conversationId]);
    } catch (error) {
      if (pgCode(error) === UNDEFINED_TABLE) return null;
      throw error;
    }
    const row = result.rows[0];
    if (!row) return null;
    return parseBoundary(
      ArchivedConversation,
      { conversationId: row.conversation_id, record: row.record, history: row.history, events: row.events, endedAt: row.ended_at.getTime(), archivedAt: row.archived_at.getTime() },
      `Archived conversation ${conversationId}`,
    );
  }

  /** @inheritDoc */
  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  private async createTable(): Promise<void> {
    const { sql: t, endedAtIndex, statusIndex, relations } = this.table;
    // Already there (created by another process, or by hand for a user that may not create): nothing to do.
    // `CREATE … IF NOT EXISTS` itself needs the CREATE privilege even when the table exists.
    const present = await this.query<{ missing: number }>('setup', null, `SELECT count(*) FILTER (WHERE to_regclass(name) IS NULL)::int AS missing FROM unnest($1::text[]) AS name`, [relations]);
    if (present.rows[0]?.missing === 0) return;
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${t} (
        conversation_id text PRIMARY KEY,
        status text NOT NULL,
        network text NOT NULL,
        epoch text NOT NULL,
        version integer NOT NULL,
        record json NOT NULL,
        history json NOT NULL,
        events json NOT NULL,
        ended_at timestamptz NOT NULL,
        archived_at timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${endedAtIndex} ON ${t} (ended_at)`,
      `CREATE INDEX IF NOT EXISTS ${statusIndex} ON ${t} (status, ended_at)`,
    ];
    for (const statement of statements) {
      try {
        await this.query('setup', null, statement, []);
      } catch (error) {
        // Another process created it at the same moment.
        if (!ALREADY_EXISTS.has(pgCode(error))) throw error;
      }
    }
  }

  private async query<R extends pg.QueryResultRow>(operation: 'save' | 'load' | 'setup', conversationId: string | null, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      if (isHandoffError(error)) throw error;
      throw new ArchiveUnavailableError(operation, conversationId, error);
    }
  }
}

/** The SQLSTATE of a `pg` error (also when wrapped in an {@link ArchiveUnavailableError}), or ''. */
function pgCode(error: unknown): string {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string' && /^[0-9A-Z]{5}$/.test(direct)) return direct;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === 'string' ? cause : '';
}
