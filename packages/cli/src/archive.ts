import type { Logger } from 'pino';
import { redactUrlCredentials, type ConversationArchive } from '@handoff/core';

/**
 * Opens the archive the flags name (`--archive-url`, `--archive-table`), or returns undefined when
 * there is none. `@handoff/archive` (and with it the `pg` client) is loaded only then. The URL's
 * password never reaches a log line.
 */
export async function openArchive(flags: { archiveUrl?: string | undefined; archiveTable?: string | undefined }, logger?: Logger): Promise<ConversationArchive | undefined> {
  if (!flags.archiveUrl) return undefined;
  const { PostgresArchive } = await import('@handoff/archive');
  const archive = new PostgresArchive({ url: flags.archiveUrl, ...(flags.archiveTable ? { table: flags.archiveTable } : {}) }, (error) =>
    logger?.warn({ archive: redactUrlCredentials(flags.archiveUrl!), err: { message: error.message } }, 'archive connection lost; the next write reconnects'),
  );
  logger?.info({ archive: redactUrlCredentials(flags.archiveUrl), table: archive.tableName }, 'archive enabled');
  return archive;
}
