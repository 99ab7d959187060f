import type { ArchivedConversation } from './schemas/archived-conversation.js';

/**
 * Reads finished conversations back from an archive: what clients, the HTTP API and
 * `handoff inspect` fall back to when Redis no longer holds a conversation.
 */
export interface ArchiveReader {
  /**
   * The archived conversation, or null when the archive has none with this id.
   * @throws {@link ArchiveUnavailableError} when the archive cannot be read.
   */
  load(conversationId: string): Promise<ArchivedConversation | null>;
}

/**
 * Where finished conversations go when they leave Redis (`@handoff/archive`'s `PostgresArchive`,
 * or any store that keeps this contract). Implementations validate what they write and read
 * with the {@link ArchivedConversation} schema.
 */
export interface ConversationArchive extends ArchiveReader {
  /**
   * Writes a conversation, replacing an earlier copy of the same id (an upsert: saving twice is
   * harmless, and a conversation revived and ended again is saved again with what it has now).
   * @throws {@link ArchiveUnavailableError} when the archive cannot be written; nothing is lost, the caller retries.
   */
  save(conversation: ArchivedConversation): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
