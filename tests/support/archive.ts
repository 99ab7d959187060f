import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type ProvisionedPostgres } from '@handoff/testing';

/** A private PostgreSQL for one test file (see `startPostgres`), with a direct client to check rows. */
export interface TestPostgres {
  readonly server: ProvisionedPostgres;
  /** A client straight to the server (never through a relay), for assertions. */
  readonly sql: pg.Client;
  close(): Promise<void>;
}

/** Starts a PostgreSQL for the tests of one file and says which provider it came from. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const server = await startPostgres({ log: (line) => console.warn(`[postgres] ${line}`) });
  console.info(`[postgres] archive tests use ${server.provider} PostgreSQL at ${server.url}`);
  const sql = new pg.Client({ connectionString: server.url });
  await sql.connect();
  return {
    server,
    sql,
    async close() {
      await sql.end().catch(() => undefined);
      await server.stop();
    },
  };
}

/** A table name no other test uses. */
export function uniqueTable(label: string): string {
  return `t_${label}_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
}

/** One archived row as the tests read it. */
export interface ArchivedRow {
  conversation_id: string;
  status: string;
  version: number;
  record: { status: string; output: string | null; version: number; path: string[] };
  history: { role: string; content?: unknown }[];
  events: { id: string; type: string; text?: string }[];
}

/** The rows of `table` for these ids (those that exist). */
export async function archivedRows(sql: pg.Client, table: string, ids: readonly string[]): Promise<Map<string, ArchivedRow>> {
  const exists = await sql.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
  if (!exists.rows[0]?.present) return new Map();
  const result = await sql.query<ArchivedRow>(`SELECT conversation_id, status, version, record, history, events FROM ${table} WHERE conversation_id = ANY($1)`, [ids]);
  return new Map(result.rows.map((row) => [row.conversation_id, row]));
}
