import { ArchiveTableName } from '@handoff/core';

/** A validated table name, quoted for SQL, and the names derived from it. */
export interface QuotedTable {
  /** `"schema"."name"` or `"name"`. */
  readonly sql: string;
  /** The quoted name of the index on the end time (created in the table's schema). */
  readonly endedAtIndex: string;
  /** The quoted name of the index on status and end time. */
  readonly statusIndex: string;
  /** The unquoted, qualified names of the table and its indexes (for `to_regclass`). */
  readonly relations: readonly string[];
}

/**
 * Quotes a table name that `ArchiveTableName` (in `@handoff/core`) accepts.
 * @throws a zod error for any other name.
 */
export function quoteTable(table: string): QuotedTable {
  const parts = ArchiveTableName.parse(table).split('.');
  const name = parts.at(-1)!;
  const schema = parts.length > 1 ? `${parts[0]}.` : '';
  return {
    relations: [`${schema}${name}`, `${schema}${name}_ended_at_idx`, `${schema}${name}_status_idx`],
    sql: parts.map((part) => `"${part}"`).join('.'),
    endedAtIndex: `"${name}_ended_at_idx"`,
    statusIndex: `"${name}_status_idx"`,
  };
}
