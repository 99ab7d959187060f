import type { WireToolCall, WireUsage } from './chat-response.js';
import { contentText, type ChatCompletionRequestBody } from './chat-request.js';

/** Rough token count of a number of characters: one token per four, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * Rough usage of an exchange: the request's message texts (and tool-call arguments) plus tool
 * definitions for the prompt, the answer's text, tool names and arguments for the completion.
 *
 * @param body - the request
 * @param content - the answer's text
 * @param toolCalls - the answer's tool calls
 */
export function estimateUsage(
  body: ChatCompletionRequestBody,
  content: string | null,
  toolCalls: readonly WireToolCall[],
): WireUsage {
  let promptChars = 0;
  for (const message of body.messages) {
    promptChars += contentText(message.content).length;
    for (const call of message.tool_calls ?? []) {
      promptChars += (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
    }
  }
  if (body.tools && body.tools.length > 0) promptChars += JSON.stringify(body.tools).length;
  let completionChars = content?.length ?? 0;
  for (const call of toolCalls) completionChars += call.function.name.length + call.function.arguments.length;
  const prompt_tokens = estimateTokens(promptChars);
  const completion_tokens = estimateTokens(completionChars);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}
