import { z } from 'zod';

/** The table the archive uses unless told otherwise. */
export const DEFAULT_ARCHIVE_TABLE = 'handoff_conversations';

const IDENTIFIER = '[a-z_][a-z0-9_]{0,47}';

/**
 * The archive's table name: `name` or `schema.name`, each part lower-case letters, digits and
 * underscores starting with a letter or underscore, at most 48 characters (so the names of its
 * indexes stay within PostgreSQL's 63). Validated because it is written into SQL statements
 * (identifiers cannot be bound as parameters); the parts are also quoted.
 */
export const ArchiveTableName = z
  .string()
  .regex(new RegExp(`^(${IDENTIFIER}\\.)?${IDENTIFIER}$`), 'must be "name" or "schema.name": lower-case letters, digits and "_", each part starting with a letter or "_", at most 48 characters');

/** A validated table name, quoted for SQL, and the names derived from it. */
export interface QuotedTable {
  /** `"schema"."name"` or `"name"`. */
  readonly sql: string;
  /** The quoted name of the index on the end time (created in the table's schema). */
  readonly endedAtIndex: string;
  /** The quoted name of the index on status and end time. */
  readonly statusIndex: string;
}

/** Quotes a table name that {@link ArchiveTableName} accepted. */
export function quoteTable(table: string): QuotedTable {
  const parts = ArchiveTableName.parse(table).split('.');
  const name = parts.at(-1)!;
  return {
    sql: parts.map((part) => `"${part}"`).join('.'),
    endedAtIndex: `"${name}_ended_at_idx"`,
    statusIndex: `"${name}_status_idx"`,
  };
}
