import type { CompletionIds } from './completion-ids.js';
import type { WireToolCall, WireUsage, FinishReason } from './chat-response.js';
import type { ChatCompletionRequestBody } from './chat-request.js';
import type { ScriptedReply } from './scripted-reply.js';
import { estimateUsage } from './usage.js';

/** A successful reply with everything the wire needs decided: ids, argument strings, usage. */
export interface ResolvedReply {
  /** The completion id shared by the object or by every chunk. */
  readonly id: string;
  /** Seconds since the epoch. */
  readonly created: number;
  /** The model name, echoed from the request. */
  readonly model: string;
  /** Assistant text, `null` when the answer only calls tools. */
  readonly content: string | null;
  /** Tool calls with ids and string arguments. */
  readonly toolCalls: readonly WireToolCall[];
  /** `tool_calls` when there are tool calls, else `stop`. */
  readonly finishReason: FinishReason;
  /** Token counts. */
  readonly usage: WireUsage;
}

/**
 * Decides ids, argument strings and usage for a scripted reply.
 *
 * @param reply - the scripted reply (its `error`, `hold` and so on are not looked at here)
 * @param body - the request it answers
 * @param ids - the server's id generator
 */
export function resolveReply(reply: ScriptedReply, body: ChatCompletionRequestBody, ids: CompletionIds): ResolvedReply {
  const toolCalls: WireToolCall[] = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? ids.toolCall(),
    type: 'function',
    function: {
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
    },
  }));
  const content = reply.content ?? (toolCalls.length > 0 ? null : '');
  const usage = reply.usage
    ? { ...reply.usage, total_tokens: reply.usage.prompt_tokens + reply.usage.completion_tokens }
    : estimateUsage(body, content, toolCalls);
  return {
    id: ids.completion(),
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'scripted',
    content,
    toolCalls,
    finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    usage,
  };
}
