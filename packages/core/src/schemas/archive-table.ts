import { z } from 'zod';

/** The table the archive of finished conversations uses unless told otherwise. */
export const DEFAULT_ARCHIVE_TABLE = 'handoff_conversations';

const IDENTIFIER = '[a-z_][a-z0-9_]{0,47}';

/**
 * The archive's table name: `name` or `schema.name`, each part lower-case letters, digits and
 * underscores starting with a letter or underscore, at most 48 characters (so the names of its
 * indexes stay within PostgreSQL's 63). Validated because it is written into SQL statements
 * (identifiers cannot be bound as parameters); the archive also quotes each part.
 */
export const ArchiveTableName = z
  .string()
  .regex(new RegExp(`^(${IDENTIFIER}\\.)?${IDENTIFIER}$`), 'must be "name" or "schema.name": lower-case letters, digits and "_", each part starting with a letter or "_", at most 48 characters');

/** A PostgreSQL connection URL of the archive (`postgres://user:password@host:5432/database`). */
export const ArchiveUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must start with postgres:// or postgresql://');
