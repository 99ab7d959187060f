import { DEFAULT_RETENTION_SECONDS, MAX_EVENTS_PER_CONVERSATION, coordinatorPartitionOf, type KeyLayout, type NewEvent, type TurnResult } from '@handoff/core';
import { encodeStoredEvent } from './event-codec.js';
import { APPEND_EVENTS_LUA, APPEND_LATE_LUA, hopPendingLua } from './small-scripts.js';
import type { RedisClient } from './connection.js';
import type { CoordinatorPartitions } from './network-registry.js';

/**
 * Appends the turn's last events (as the event log does), then stores the turn result as its
 * conversation's pending result — only while that hop is still the one the conversation waits for
 * (running, applied up to the hop before it, same incarnation).
 * The stored result supersedes the hop's turn journal, which goes in the same step.
 * KEYS: record, turn result, event stream, compacted log, turn journal.
 * ARGV: seq, epoch ('' for none), result JSON, TTL seconds, events max length, event JSON….
 * Returns 1 when stored, 0 when the hop is no longer pending (the result is stale).
 */
const STORE_TURN_LUA = `${APPEND_LATE_LUA}${APPEND_EVENTS_LUA}
if #ARGV > 5 then appendEvents(KEYS[3], KEYS[4], KEYS[1], ARGV[5], 6, #ARGV) end
${hopPendingLua('0')}redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('DEL', KEYS[5])
return 1
`;

type StoreTurnCommand = (record: string, turn: string, stream: string, log: string, journal: string, seq: number, epoch: string, json: string, ttl: number, maxLen: number, ...events: string[]) => Promise<number>;

/** What {@link TurnInbox.send} did. */
export type TurnSendOutcome = 'sent' | 'stale';

/**
 * How a worker's turn result reaches the coordinator: not a queue job (a BullMQ job lifecycle per
 * handoff costs Redis ~60 commands and 5 script calls), but two writes sent together —
 *
 * 1. the result is stored as its conversation's pending result (`conv:{id}:turn`, in the
 *    conversation's slot, only while that hop is pending): the durable copy;
 * 2. it is pushed on the turn inbox of the conversation's coordinator partition (a list in the
 *    partition queue's slot), which gateways pop and apply.
 *
 * The step that applies the result deletes the stored copy. When a gateway dies between its pop
 * and the apply, or the push never happened, the conversation stays in the in-flight index and
 * the reconciler finds the stored result and applies it; a result applied twice is harmless (the
 * apply checks the sequence).
 */
export class TurnInbox {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly partitions: CoordinatorPartitions,
    /** How long a stored result is kept if nothing applies it. @defaultValue the record retention */
    private readonly ttlSeconds = DEFAULT_RETENTION_SECONDS,
  ) {
    if (!(redis as unknown as { handoffStoreTurn?: unknown }).handoffStoreTurn) {
      redis.defineCommand('handoffStoreTurn', { numberOfKeys: 5, lua: STORE_TURN_LUA });
    }
  }

  /**
   * Sends a turn result: appends the turn's last `events` to the log, stores the result and pushes
   * it on its partition's inbox, all in one round trip (the events land before the result can be
   * applied). `stale` when its hop is no longer pending (the push then carries a result the
   * coordinator ignores, as it ignores any stale result).
   */
  async send(result: TurnResult, events: readonly NewEvent[] = []): Promise<TurnSendOutcome> {
    const json = JSON.stringify(result);
    const id = result.conversationId;
    const partition = coordinatorPartitionOf(id, await this.partitions.count());
    const store = (this.redis as unknown as { handoffStoreTurn: StoreTurnCommand }).handoffStoreTurn;
    const keys = this.keys;
    const encoded = events.map((event) => encodeStoredEvent(id, event));
    const [stored] = await Promise.all([
      store.call(this.redis, keys.conversation(id), keys.turnResult(id), keys.events(id), keys.finishedEvents(id), keys.turnJournal(id), result.seq, result.epoch ?? '', json, this.ttlSeconds, MAX_EVENTS_PER_CONVERSATION, ...encoded),
      this.redis.lpush(keys.turnInbox(partition), json),
    ]);
    return stored === 1 ? 'sent' : 'stale';
  }

  /** True when the stored pending result is the one of `hopId` (of incarnation `epoch`, when given). */
  async holds(conversationId: string, hopId: string, epoch: string | undefined): Promise<boolean> {
    return (await readStoredTurn(this.redis, this.keys, conversationId, hopId, epoch)) !== null;
  }
}

/**
 * The turn result a worker stored for a conversation's hop `hopId` (of incarnation `epoch`, when
 * given), parsed but unvalidated (the coordinator checks it); null when none is stored for that hop.
 */
export async function readStoredTurn(redis: RedisClient, keys: KeyLayout, conversationId: string, hopId: string, epoch: string | undefined): Promise<unknown> {
  const raw = await redis.get(keys.turnResult(conversationId));
  if (raw === null) return null;
  let stored: { hopId?: unknown; epoch?: unknown } | null;
  try {
    stored = JSON.parse(raw) as { hopId?: unknown; epoch?: unknown } | null;
  } catch {
    return null;
  }
  const matches = stored !== null && typeof stored === 'object' && stored.hopId === hopId && (epoch === undefined || stored.epoch === undefined || stored.epoch === epoch);
  return matches ? stored : null;
}
