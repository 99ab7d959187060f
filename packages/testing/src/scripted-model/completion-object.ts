import type { ChatCompletionObject } from './chat-response.js';
import type { ResolvedReply } from './resolved-reply.js';

/**
 * The non-streamed `chat.completion` object for a reply.
 *
 * @param reply - the resolved reply
 */
export function toCompletionObject(reply: ResolvedReply): ChatCompletionObject {
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content,
          refusal: null,
          ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls.map((c) => ({ ...c, function: { ...c.function } })) } : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason,
      },
    ],
    usage: reply.usage,
  };
}
