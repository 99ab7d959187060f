import type { RedisClient } from '@handoff/redis';
import {
  ApprovalCommand,
  CancelCommand,
  MAX_COORDINATOR_JOB_BYTES,
  OverloadedError,
  NetworkNotRegisteredError,
  assertPayloadSize,
  SCHEMA_VERSION,
  UnknownAgentError,
  ADMISSION_HOLD_MS,
  CommandNotConfirmedError,
  ErrorCode,
  HandoffError,
  DEFAULT_COMMAND_TIMEOUT_MS,
  errorFromJson,
  commandJobId,
  newConversationId,
  newOperationId,
  parseBoundary,
  validateContext,
  type ArchiveReader,
  type NetworkDefinition,
  type StartCommand,
  type UserMessageCommand,
  traceparentOf,
} from '@handoff/core';
import {
  BlockingPool,
  closeConnection,
  ChangeWatcher,
  CoordinatorPartitions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  waitUntilConnected,
  ConversationStore,
  HOP_JOB_OPTIONS,
  withSmallScripts,
  QueueSet,
  TurnInbox,
  createRedisConnection,
  readNetworkRegistration,
  resolveRedisConfig,
  type NetworkRegistration,
  type RedisConfig,
  type ResolvedRedisConfig,
} from '@handoff/redis';
import { RedisConversationHandle } from './conversation-handle.js';
import type { HandoffClient } from './handle.js';
import { StartRequest, type TypedStartRequest } from './start-request.js';

/** How old a network registration a start may check its agent against (the gateway re-registers every second). */
const NETWORK_CACHE_MS = 1_000;
/** How long a start waits for a client that reached Redis before to reach it again (a restart, a failover), unless configured. */
const RECONNECT_TIMEOUT_MS = 30_000;

/** Options of {@link createClient}. */
export interface ClientOptions<N extends NetworkDefinition = NetworkDefinition> {
  /** Redis URL and key prefix; the same as the gateway's. */
  redis?: RedisConfig;
  /**
   * How long a user message, approval or cancel waits for a gateway to confirm it; then it throws
   * TIMEOUT (the command stays queued; calling again with its operation id is safe).
   * @defaultValue {@link DEFAULT_COMMAND_TIMEOUT_MS}
   */
  commandTimeoutMs?: number;
  /**
   * How long `start()` (and `network()`) wait for Redis to answer before they throw
   * REDIS_UNREACHABLE naming the URL, instead of ioredis' ~35 s of command retries that name
   * nothing. By default 5 s while the client has never reached Redis (not running, a wrong URL) and
   * 30 s once it has (a restart or a failover, which a start should ride out); a value given here or
   * in `HANDOFF_CONNECT_TIMEOUT_MS` applies to both.
   */
  connectTimeoutMs?: number;
  /**
   * Most blocking connections that command waits and event readers hold open at once: further ones
   * queue for one, within their timeout (an event reader that gets none within a second reads
   * without blocking, then tries again). Result waits need none: they share one subscriber
   * connection. @defaultValue 16
   */
  maxBlockingConnections?: number;
  /**
   * Where finished conversations are read once they left Redis: `status()`, `result()` and
   * `events()` of such a conversation come from it (e.g. `new PostgresArchive({ url })` from
   * `@handoff/archive`). Without it they throw CONVERSATION_NOT_FOUND. The caller owns it.
   */
  archive?: ArchiveReader;
  /**
   * The network (its module's default export): types `start` (agent names, context) and checks the
   * context against its schema before the start is queued (INVALID_CONTEXT naming each failing
   * path). Without it, the gateway checks the context and a refused one ends the conversation with
   * INVALID_CONTEXT. `createClient<typeof network>({ … })` types without importing it.
   */
  network?: N;
}

/** A command on its way to the coordinator: queued under its own job, then confirmed or refused. */
interface CommandToSend {
  kind: 'user_message' | 'approval' | 'cancel';
  conversationId: string;
  operationId: string;
  /** What the error says was not confirmed, e.g. "The user message". */
  what: string;
}

/** A client straight over Redis: {@link HandoffClient}, plus the registered network. */
export interface RedisHandoffClient<N extends NetworkDefinition = NetworkDefinition> extends HandoffClient<N> {
  conversation(conversationId: string): RedisConversationHandle;
  getHandle(conversationId: string): RedisConversationHandle;
  start(request: TypedStartRequest<N>): Promise<RedisConversationHandle>;
  /** The network the gateway registered. @throws {@link NetworkNotRegisteredError} */
  network(): Promise<NetworkRegistration>;
}

/**
 * Creates a client.
 *
 * @example
 * ```ts
 * const client = createClient({ redis: { url: process.env.REDIS_URL } });
 * const conversation = await client.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
 * for await (const event of conversation.events()) console.log(event.type);
 * const result = await conversation.result();
 * console.log(result.agent, result.output, result.path);
 * await client.close(); // its Redis connections keep the process alive until closed
 * ```
 */
export function createClient<N extends NetworkDefinition = NetworkDefinition>(options: ClientOptions<N> = {}): RedisHandoffClient<N> {
  const config: ResolvedRedisConfig = resolveRedisConfig(options.redis);
  const redis: RedisClient = createRedisConnection(config.url, 'command', 'handoff-client', config.cluster);
  const store = new ConversationStore(redis, config.keys);
  const partitions = new CoordinatorPartitions({ redis, keys: config.keys });
  const inbox = new TurnInbox(redis, config.keys, partitions);
  const queues = new QueueSet(redis, config.prefix, partitions);

  const blocking = new BlockingPool(redis, options.maxBlockingConnections === undefined ? {} : { maxConnections: options.maxBlockingConnections });
  const waits = { watcher: new ChangeWatcher(redis), blocking };
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;

  /**
   * Queues a command under a job of its own and waits for the coordinator's answer: resolves once
   * it applied, throws its typed error when it was refused, and {@link CommandNotConfirmedError}
   * when no gateway answered in time (it stays queued).
   */
  const sendCommand = async (command: CommandToSend, data: object): Promise<void> => {
    // The same operation id twice is one job (while BullMQ keeps it) and one apply (the coordinator records it).
    await (await queues.coordinatorFor(command.conversationId)).add(command.kind, data, { ...HOP_JOB_OPTIONS, jobId: commandJobId(command.conversationId, command.kind, command.operationId) });
    const reply = await blocking.with(commandTimeoutMs, (connection, remainingMs) => store.waitForReply(connection, command.conversationId, command.operationId, remainingMs));
    if (!reply) throw new CommandNotConfirmedError(command.what, command.operationId, commandTimeoutMs);
    if (reply.outcome === 'refused') throw errorFromJson(reply.error ?? { code: 'INTERNAL', message: `${command.what} was refused without a reason.`, retryable: false });
  };
  /** A sender of one kind of the handle's commands. */
  const sender =
    (kind: 'user_message' | 'approval', what: string) =>
    (command: (UserMessageCommand | ApprovalCommand) & { operationId: string }): Promise<void> =>
      sendCommand({ kind, conversationId: command.conversationId, operationId: command.operationId, what }, command);
  const cancel = async (conversationId: string, reason: string | undefined, operationId = newOperationId()): Promise<void> => {
    const command: CancelCommand = parseBoundary(
      CancelCommand,
      { schemaVersion: SCHEMA_VERSION, kind: 'cancel', conversationId, ...(reason === undefined ? {} : { reason }), operationId, createdAt: Date.now() },
      'Cancel request',
    );
    await sendCommand({ kind: 'cancel', conversationId, operationId, what: 'The cancel' }, command);
  };
  const handle = (conversationId: string): RedisConversationHandle =>
    new RedisConversationHandle(conversationId, redis, config.keys, store, () => store.isStarting(conversationId), sender('user_message', 'The user message'), cancel, sender('approval', 'The approval'), waits, options.archive);

  /**
   * Backpressure that holds under bursts: the agent's queued hops plus the starts admitted but not
   * yet queued are counted and this start added in one atomic step, or it is refused at once.
   */
  const admit = async (agent: string, limit: number, conversationId: string): Promise<void> => {
    const counted = await withSmallScripts(redis).handoffAdmitStart(queues.lane(agent).keys.wait, config.keys.admission(agent), limit, Date.now(), ADMISSION_HOLD_MS, conversationId);
    if (counted < 0) throw new OverloadedError(agent, -counted - 1, limit);
  };

  const configuredTimeoutMs = options.connectTimeoutMs ?? (Number(process.env.HANDOFF_CONNECT_TIMEOUT_MS) || undefined);
  let reached = false;
  redis.once('ready', () => {
    reached = true;
  });
  // Starts made while Redis is away share one wait (and its two listeners), whatever their number.
  let connecting: Promise<void> | undefined;
  const connected = (): Promise<void> => {
    if (redis.status === 'ready') return Promise.resolve();
    connecting ??= waitUntilConnected(redis, config.url, configuredTimeoutMs ?? (reached ? RECONNECT_TIMEOUT_MS : DEFAULT_CONNECT_TIMEOUT_MS)).finally(() => {
      connecting = undefined;
    });
    return connecting;
  };
  const network = async (): Promise<NetworkRegistration> => {
    await connected();
    const registration = await readNetworkRegistration(redis, config.keys);
    if (!registration) throw new NetworkNotRegisteredError(config.prefix);
    lastRead = { registration, at: Date.now() };
    return registration;
  };
  /** The registration a start checks its agent against: one read at most {@link NETWORK_CACHE_MS} old. */
  let lastRead: { registration: NetworkRegistration; at: number } | undefined;
  const recentNetwork = async (): Promise<NetworkRegistration> => {
    if (!lastRead || Date.now() - lastRead.at >= NETWORK_CACHE_MS) return network();
    await connected();
    return lastRead.registration;
  };

  const client: RedisHandoffClient<N> = {
    async start(request) {
      const parsed = parseBoundary(StartRequest, request, 'Start request');
      // Checked here to refuse early; the coordinator applies the schema (its defaults, once) when it starts the conversation.
      if (options.network !== undefined) validateContext(options.network, parsed.context);
      assertPayloadSize(parsed, MAX_COORDINATOR_JOB_BYTES, 'Start request');
      let registration = await recentNetwork();
      const agent = parsed.agent ?? registration.entry;
      const knownIn = (r: NetworkRegistration) => [...r.agents.map((a) => a.name), ...r.routers];
      // An agent the remembered registration lacks may have been added since: ask again before refusing.
      if (!knownIn(registration).includes(agent)) registration = await network();
      const known = knownIn(registration);
      if (!known.includes(agent)) throw new UnknownAgentError(agent, known, 'Entry agent');
      // Backpressure: refuse at once rather than grow an agent's queue without bound.
      const limit = registration.agents.find((a) => a.name === agent)?.maxWaiting;
      const conversationId = parsed.conversationId ?? newConversationId();
      if (limit !== undefined) await admit(agent, limit, conversationId);
      const operationId = newOperationId();
      // A caller's active span (when it traces) becomes the parent of the conversation's trace.
      const traceparent = traceparentOf();
      const command: StartCommand = {
        schemaVersion: SCHEMA_VERSION,
        kind: 'start',
        conversationId,
        entryAgent: agent,
        input: parsed.input,
        context: parsed.context,
        limits: parsed.limits,
        ...(traceparent === undefined ? {} : { traceparent }),
        operationId,
        createdAt: Date.now(),
      };
      // The index entry, the starting mark (the durable copy, which says "starting" to status() and
      // cancel()) and the push on the partition's inbox, answered in one round trip.
      try {
        await inbox.sendStart(command);
      } catch (error) {
        // Redis refused a write (out of memory, read-only, …): not accepted. The id lets the caller start again without a second conversation.
        throw new HandoffError(ErrorCode.INTERNAL, `The start of conversation "${conversationId}" was not accepted: ${error instanceof Error ? error.message : String(error)}. Starting again with conversationId "${conversationId}" starts one conversation.`, { retryable: true, details: { conversationId }, cause: error });
      }
      return handle(conversationId);
    },
    conversation: handle,
    getHandle: handle,
    async cancel(conversationId, reason, cancelOptions = {}) {
      await handle(conversationId).cancel(reason, cancelOptions);
    },
    network,
    async close() {
      waits.watcher.close();
      blocking.close();
      await queues.close();
      await closeConnection(redis);
    },
  };
  return client;
}
