import { createHash } from 'node:crypto';
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
  newConversationId,
  parseBoundary,
  startJobId,
  type StartCommand,
  type UserMessageCommand,
  traceparentOf,
} from '@handoff/core';
import {
  ConversationStore,
  HOP_JOB_OPTIONS,
  QueueSet,
  createRedisConnection,
  readNetworkRegistration,
  resolveRedisConfig,
  type NetworkRegistration,
  type RedisConfig,
  type ResolvedRedisConfig,
} from '@handoff/redis';
import { RedisConversationHandle } from './conversation-handle.js';
import type { HandoffClient } from './handle.js';
import { StartRequest } from './start-request.js';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Redis URL and key prefix; the same as the gateway's. */
  redis?: RedisConfig;
}

/** A client straight over Redis: {@link HandoffClient}, plus the registered network. */
export interface RedisHandoffClient extends HandoffClient {
  conversation(conversationId: string): RedisConversationHandle;
  getHandle(conversationId: string): RedisConversationHandle;
  start(request: StartRequest): Promise<RedisConversationHandle>;
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
 * ```
 */
export function createClient(options: ClientOptions = {}): RedisHandoffClient {
  const config: ResolvedRedisConfig = resolveRedisConfig(options.redis);
  const redis: RedisClient = createRedisConnection(config.url, 'command', 'handoff-client', config.cluster);
  const store = new ConversationStore(redis, config.keys);
  const queues = new QueueSet(redis, config.prefix);

  /** True while a conversation's start command is on the coordinator queue (not yet applied). */
  const startPending = (conversationId: string) => async (): Promise<boolean> => {
    const state = await queues.coordinator.getJobState(startJobId(conversationId));
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  };
  const enqueueMessage = async (command: UserMessageCommand) => {
    await queues.coordinator.add('user_message', command, { ...HOP_JOB_OPTIONS, jobId: `${command.conversationId}.msg.v${command.expectedVersion}` });
  };
  const enqueueApproval = async (command: ApprovalCommand, version: number) => {
    const calls = command.decisions.map((d) => d.toolCallId).sort().join(',');
    await queues.coordinator.add('approval', command, { ...HOP_JOB_OPTIONS, jobId: `${command.conversationId}.approval.v${version}.${createHash('sha1').update(calls).digest('hex').slice(0, 12)}` });
  };
  const handle = (conversationId: string): RedisConversationHandle =>
    new RedisConversationHandle(conversationId, redis, config.keys, store, startPending(conversationId), enqueueMessage, (id, reason) => client.cancel(id, reason), enqueueApproval);

  const network = async (): Promise<NetworkRegistration> => {
    const registration = await readNetworkRegistration(redis, config.keys);
    if (!registration) throw new NetworkNotRegisteredError(config.prefix);
    return registration;
  };

  const client: RedisHandoffClient = {
    async start(request) {
      const parsed = parseBoundary(StartRequest, request, 'Start request');
      assertPayloadSize(parsed, MAX_COORDINATOR_JOB_BYTES, 'Start request');
      const registration = await network();
      const agent = parsed.agent ?? registration.entry;
      const known = [...registration.agents.map((a) => a.name), ...registration.routers];
      if (!known.includes(agent)) throw new UnknownAgentError(agent, known, 'Entry agent');
      // Backpressure: refuse at once rather than grow an agent's queue without bound.
      const limit = registration.agents.find((a) => a.name === agent)?.maxWaiting;
      if (limit !== undefined) {
        const waiting = await queues.agent(agent).getWaitingCount();
        if (waiting >= limit) throw new OverloadedError(agent, waiting, limit);
      }
      const conversationId = parsed.conversationId ?? newConversationId();
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
        createdAt: Date.now(),
      };
      await queues.coordinator.add('start', command, { ...HOP_JOB_OPTIONS, jobId: startJobId(conversationId) });
      return handle(conversationId);
    },
    conversation: handle,
    getHandle: handle,
    async cancel(conversationId, reason) {
      const command: CancelCommand = parseBoundary(
        CancelCommand,
        { schemaVersion: SCHEMA_VERSION, kind: 'cancel', conversationId, ...(reason === undefined ? {} : { reason }), createdAt: Date.now() },
        'Cancel request',
      );
      await queues.coordinator.add('cancel', command, { ...HOP_JOB_OPTIONS, jobId: `${conversationId}.cancel` });
    },
    network,
    async close() {
      await queues.close();
      await redis.quit().catch(() => undefined);
    },
  };
  return client;
}
