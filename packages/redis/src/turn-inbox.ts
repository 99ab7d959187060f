import { DEFAULT_RECONCILE_AFTER_MS, DEFAULT_RETENTION_SECONDS, MAX_EVENTS_PER_CONVERSATION, coordinatorPartitionOf, parseJsonOrRaw, type KeyLayout, type NewEvent, type StartCommand, type TurnResult } from '@handoff/core';
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
 * How a worker's turn result, and a client's start, reach the coordinator: not a queue job (a BullMQ job lifecycle per
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
 *
 * A start ({@link TurnInbox.sendStart}) goes the same way: its durable copy is the conversation's
 * starting mark, and the conversation enters the in-flight index with it.
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

  /**
   * Queues a client's start: three writes sent together, answered in one round trip — the
   * conversation enters the reconciler's in-flight index (unless it is there), the command becomes
   * its starting mark (the durable copy, which `status()` and `cancel()` see and the start's apply
   * deletes), and it is pushed on its partition's inbox (the fast path). Accepted once the first two
   * are written: if the push is lost (or the gateway that popped it dies before applying it), the
   * reconciler applies the start from its mark within `reconcileAfterMs`.
   * @throws the Redis error when the index entry or the mark could not be written: the start was
   *   not accepted (a mark written is removed again, so nothing shows it as starting), though a push
   *   that landed may still start it — calling again with the same conversation id starts one.
   */
  async sendStart(command: StartCommand, recoverAfterMs = DEFAULT_RECONCILE_AFTER_MS): Promise<void> {
    const json = JSON.stringify(command);
    const id = command.conversationId;
    const partition = coordinatorPartitionOf(id, await this.partitions.count());
    const [indexed, marked] = await Promise.allSettled([
      this.redis.zadd(this.keys.inFlight, 'NX', Date.now() + recoverAfterMs, id),
      this.redis.set(this.keys.starting(id), json, 'EX', this.ttlSeconds),
      // Its failure alone loses nothing: the mark is the copy the reconciler applies.
      this.redis.lpush(this.keys.turnInbox(partition), json).catch(() => 0),
    ]);
    if (indexed.status === 'fulfilled' && marked.status === 'fulfilled') return;
    if (marked.status === 'fulfilled') await this.redis.del(this.keys.starting(id)).catch(() => 0);
    throw (indexed.status === 'rejected' ? indexed.reason : (marked as PromiseRejectedResult).reason) as Error;
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
  const stored = parseJsonOrRaw(raw) as { hopId?: unknown; epoch?: unknown } | null;
  const matches = stored !== null && typeof stored === 'object' && stored.hopId === hopId && (epoch === undefined || stored.epoch === undefined || stored.epoch === epoch);
  return matches ? stored : null;
}

/**
 * The start command a client left as a conversation's starting mark ({@link TurnInbox.sendStart}),
 * parsed but unvalidated (the coordinator checks it); null when there is none, or the mark is not
 * a start command (a client of an earlier version marked with its operation id alone).
 */
export async function readStoredStart(redis: RedisClient, keys: KeyLayout, conversationId: string): Promise<unknown> {
  const raw = await redis.get(keys.starting(conversationId));
  if (raw === null) return null;
  const stored = parseJsonOrRaw(raw) as { kind?: unknown; conversationId?: unknown } | null;
  return stored !== null && typeof stored === 'object' && stored.kind === 'start' && stored.conversationId === conversationId ? stored : null;
}
