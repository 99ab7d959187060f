import type { KeyLayout } from '@handoff/core';
import type { RedisClient } from '@handoff/redis';

/**
 * Puts a finished conversation in the pending-archive index (`<prefix>:archive:pending`, a global
 * sorted set in a slot of its own, scored by when to try it), due now. Written after the step that
 * ended the conversation applied and before the conversation leaves the reconciler's in-flight
 * index, so a crash in between leaves it in one of the two. `LT`: an entry an archiver has claimed
 * (pushed ahead) is made due again — so an archiver that read the conversation before this end
 * does not remove the entry (see {@link releaseArchiveEntry}).
 */
export function enqueueArchive(redis: RedisClient, keys: KeyLayout, conversationId: string, now = Date.now()): Promise<unknown> {
  return redis.zadd(keys.archivePending, 'LT', now, conversationId);
}

/** Removes the entry only if its score is still `claimedAt`: no end was queued since the archiver claimed it. */
const RELEASE_ENTRY = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

type ReleaseCommand = (key: string, member: string, score: number) => Promise<number>;

/**
 * Removes a conversation's pending-archive entry once it is archived (or needs no archiving),
 * unless it was queued again after the archiver claimed it at score `claimedAt`.
 * @returns true when removed.
 */
export async function releaseArchiveEntry(redis: RedisClient, keys: KeyLayout, conversationId: string, claimedAt: number): Promise<boolean> {
  const typed = redis as RedisClient & { handoffReleaseArchiveEntry?: ReleaseCommand };
  if (!typed.handoffReleaseArchiveEntry) redis.defineCommand('handoffReleaseArchiveEntry', { numberOfKeys: 1, lua: RELEASE_ENTRY });
  return (await (redis as unknown as { handoffReleaseArchiveEntry: ReleaseCommand }).handoffReleaseArchiveEntry(keys.archivePending, conversationId, claimedAt)) === 1;
}
