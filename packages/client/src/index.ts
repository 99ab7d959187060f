/**
 * `@handoff/client`: start conversations on a Handoff network, await their results and stream
 * their events — straight over Redis, from any process that shares it.
 *
 * @example
 * ```ts
 * import { createClient } from '@handoff/client';
 * const client = createClient();
 * const conversation = await client.start({ agent: 'CustomerService', input: 'My invoice is wrong' });
 * const result = await conversation.result();
 * ```
 * @module
 */
export { createClient, type ClientOptions, type RedisHandoffClient } from './client.js';
export { RedisConversationHandle } from './conversation-handle.js';
export type { ApprovalOptions, ConversationHandle, EventsOptions, HandoffClient, ResultOptions } from './handle.js';
export { createHttpClient, HttpConversationHandle, type HttpClientOptions } from './http-client.js';
export { StartRequest, type TypedStartRequest } from './start-request.js';
export { describeEvent } from './describe-event.js';
