import type OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { AssistantMessage, Message, ResolvedModelSettings, TokenUsage } from '@handoff/core';
import { toModelError } from './model-errors.js';

/** One model call's outcome. */
export interface CompletionOutcome {
  message: AssistantMessage;
  usage: TokenUsage;
}

/** Inputs of one streamed model call. */
export interface CompletionRequest {
  client: OpenAI;
  settings: ResolvedModelSettings;
  agent: string;
  messages: readonly Message[];
  tools: readonly ChatCompletionTool[];
  onTextDelta: (text: string) => void;
  signal?: AbortSignal | undefined;
}

/**
 * Calls chat.completions with `stream: true` through the official client, forwarding text deltas
 * as they arrive and assembling the assistant message with its tool calls from the chunks.
 * (Assembled here rather than with the client's stream helper, which does more work per chunk
 * than a turn needs.)
 * @throws a runtime error from {@link toModelError} when the endpoint fails after retries.
 */
export async function streamCompletion(request: CompletionRequest): Promise<CompletionOutcome> {
  const { client, settings } = request;
  try {
    const stream = await client.chat.completions.create(
      {
        model: settings.name,
        messages: request.messages as ChatCompletionMessageParam[],
        ...(request.tools.length > 0 ? { tools: [...request.tools] } : {}),
        ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
        ...(settings.maxTokens === undefined ? {} : { max_tokens: settings.maxTokens }),
        stream: true,
        stream_options: { include_usage: true },
      },
      request.signal ? { signal: request.signal } : undefined,
    );
    let content: string | null = null;
    const calls: { id: string; name: string; arguments: string }[] = [];
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    for await (const chunk of stream) {
      if (chunk.usage) {
        usage.promptTokens = chunk.usage.prompt_tokens;
        usage.completionTokens = chunk.usage.completion_tokens;
      }
      const delta = chunk.choices[0]?.delta;
      if (!delta) continue;
      if (delta.content) {
        content = (content ?? '') + delta.content;
        request.onTextDelta(delta.content);
      }
      for (const piece of delta.tool_calls ?? []) {
        const call = (calls[piece.index] ??= { id: '', name: '', arguments: '' });
        if (piece.id) call.id = piece.id;
        if (piece.function?.name) call.name += piece.function.name;
        if (piece.function?.arguments) call.arguments += piece.function.arguments;
      }
    }
    const toolCalls = calls.filter(Boolean).map((call, index) => ({ id: call.id || `call_${index}`, type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));
    const message: AssistantMessage = { role: 'assistant', content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
    return { message, usage };
  } catch (error) {
    throw toModelError(error, request.agent, settings.name);
  }
}
