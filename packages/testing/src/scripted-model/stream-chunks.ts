import type { ChatCompletionChunkObject, WireDelta, FinishReason } from './chat-response.js';
import type { ResolvedReply } from './resolved-reply.js';

/** How to cut a reply into stream chunks. */
export interface StreamChunkOptions {
  /** Characters per content delta and per tool-argument delta (at least 1). */
  chunkSize: number;
  /** Add `usage: null` to every chunk and a final usage-only chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
}

/**
 * Cuts a string into pieces of at most `size` code points (never splitting a surrogate pair).
 *
 * @param text - the string to cut
 * @param size - code points per piece, at least 1
 */
export function splitText(text: string, size: number): string[] {
  const step = Math.max(1, Math.floor(size));
  if (text.length <= step) return text.length === 0 ? [] : [text];
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += step) pieces.push(points.slice(i, i + step).join(''));
  return pieces;
}

/**
 * The `chat.completion.chunk` objects of a streamed reply, in order: a role chunk, the content in
 * pieces, then per tool call a first chunk (index, id, type, name, empty arguments) and its argument
 * pieces, then an empty delta with the finish reason, then (with `includeUsage`) a chunk with no
 * choices and the usage.
 *
 * @param reply - the resolved reply
 * @param options - chunk size and usage option
 */
export function toStreamChunks(reply: ResolvedReply, options: StreamChunkOptions): ChatCompletionChunkObject[] {
  const chunks: ChatCompletionChunkObject[] = [];
  const push = (delta: WireDelta, finishReason: FinishReason | null = null): void => {
    const chunk: ChatCompletionChunkObject = {
      id: reply.id,
      object: 'chat.completion.chunk',
      created: reply.created,
      model: reply.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (options.includeUsage) chunk.usage = null;
    chunks.push(chunk);
  };

  push({ role: 'assistant', content: reply.content === null ? null : '', refusal: null });
  for (const piece of splitText(reply.content ?? '', options.chunkSize)) push({ content: piece });
  reply.toolCalls.forEach((call, index) => {
    push({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
    for (const piece of splitText(call.function.arguments, options.chunkSize)) {
      push({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  push({}, reply.finishReason);
  if (options.includeUsage) {
    chunks.push({
      id: reply.id,
      object: 'chat.completion.chunk',
      created: reply.created,
      model: reply.model,
      choices: [],
      usage: reply.usage,
    });
  }
  return chunks;
}

/**
 * Encodes chunks as the body of a server-sent-events response, ending with `data: [DONE]`.
 *
 * @param chunks - the chunk objects
 */
export function encodeSse(chunks: readonly ChatCompletionChunkObject[]): string {
  let out = '';
  for (const chunk of chunks) out += `data: ${JSON.stringify(chunk)}\n\n`;
  return out + 'data: [DONE]\n\n';
}
