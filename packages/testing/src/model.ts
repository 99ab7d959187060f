/**
 * `@handoff/testing/model`: the scripted OpenAI-compatible model server alone — no Redis or
 * PostgreSQL provisioning, no testcontainers — for offline runs and tests of a network.
 *
 * @example
 * ```ts
 * import { startScriptedModel, lastUserIncludes } from '@handoff/testing/model';
 *
 * const model = await startScriptedModel({
 *   rules: [
 *     { when: lastUserIncludes('refund'), reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: {} }] } },
 *     { reply: { content: 'Hello from the scripted model.' } },
 *   ],
 * });
 * process.env.OPENAI_BASE_URL = model.url;   // what workers read
 * // … run the network …
 * await model.close();
 * ```
 *
 * @packageDocumentation
 */

export { startScriptedModel } from './scripted-model/start-scripted-model.js';
export type { ScriptedModel, ScriptedModelOptions } from './scripted-model/scripted-model.js';
export type { ScriptRule, ReplySource } from './scripted-model/script-rule.js';
export type { ScriptedReply, ScriptedToolCall, ScriptedError, ScriptedUsage } from './scripted-model/scripted-reply.js';
export { hrNow, type RecordedRequest } from './scripted-model/recorded-request.js';
export type {
  ChatCompletionRequestBody,
  ChatMessage,
  ChatContentPart,
  ChatRequestToolCall,
  ChatTool,
} from './scripted-model/chat-request.js';
export { contentText } from './scripted-model/chat-request.js';
export type {
  ChatCompletionObject,
  ChatCompletionChunkObject,
  WireDelta,
  WireToolCall,
  WireToolCallDelta,
  WireUsage,
  FinishReason,
} from './scripted-model/chat-response.js';
export {
  lastUserText,
  systemText,
  toolNames,
  hasTool,
  systemIncludes,
  lastUserIncludes,
  and,
  type RequestPredicate,
} from './scripted-model/matchers.js';
