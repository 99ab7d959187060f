/**
 * `@handoff/core`: the schemas, types, errors, definitions and naming that every Handoff process
 * shares. It does no I/O and depends on zod and nanoid only.
 *
 * @example
 * ```ts
 * import { defineAgent, defineNetwork } from '@handoff/core';
 * const spanish = defineAgent({ name: 'SpanishAgent', instructions: 'Only respond in Spanish', handoffs: ['EnglishAgent'] });
 * const english = defineAgent({ name: 'EnglishAgent', instructions: 'Only respond in English', handoffs: ['SpanishAgent'] });
 * export default defineNetwork({ name: 'translators', agents: [english, spanish] });
 * ```
 * @module
 */
export * from './constants.js';
export * from './errors/index.js';
export * from './ids.js';
export * from './time.js';
export * from './log-redaction.js';
export * from './tracing.js';
export * from './naming.js';
export * from './validation.js';
export * from './schemas/json.js';
export * from './schemas/message.js';
export * from './schemas/usage.js';
export * from './schemas/limits.js';
export * from './schemas/envelope.js';
export * from './schemas/turn-timing.js';
export * from './schemas/turn-result.js';
export * from './schemas/turn-journal.js';
export * from './schemas/start-command.js';
export * from './schemas/user-message-command.js';
export * from './schemas/child-done-command.js';
export * from './schemas/cancel-command.js';
export * from './schemas/approval-command.js';
export * from './schemas/approval-resume.js';
export * from './schemas/coordinator-job.js';
export * from './schemas/command-reply.js';
export * from './schemas/conversation.js';
export * from './schemas/runtime-event.js';
export * from './schemas/event-id.js';
export * from './schemas/transcript.js';
export * from './schemas/archived-conversation.js';
export * from './schemas/archive-table.js';
export * from './archive.js';
export * from './definitions/model-settings.js';
export * from './definitions/targets.js';
export * from './definitions/routing.js';
export * from './definitions/tools.js';
export { zodObjectProblem, UserZodObject } from './definitions/zod-schema.js';
export * from './definitions/mcp.js';
export * from './definitions/agent.js';
export * from './definitions/network.js';
export * from './definitions/network-context.js';
export * from './definitions/typing.js';
export * from './conditions/expression-ast.js';
export * from './conditions/context-expression.js';
