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
 * Calls chat.completions with streaming through the official client's stream helper, forwarding
 * text deltas as they arrive, and returns the whole assistant message with its tool calls.
 * @throws a runtime error from {@link toModelError} when the endpoint fails after retries.
 */
export async function streamCompletion(request: CompletionRequest): Promise<CompletionOutcome> {
  const { client, settings } = request;
  try {
    const stream = client.chat.completions.stream(
      {
        model: settings.name,
        messages: request.messages as ChatCompletionMessageParam[],
        ...(request.tools.length > 0 ? { tools: [...request.tools] } : {}),
        ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
        ...(settings.maxTokens === undefined ? {} : { max_tokens: settings.maxTokens }),
        stream_options: { include_usage: true },
      },
      request.signal ? { signal: request.signal } : undefined,
    );
    stream.on('content.delta', ({ delta }) => request.onTextDelta(delta));
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];
    const toolCalls = (choice?.message.tool_calls ?? []).flatMap((call) =>
      call.type === 'function' ? [{ id: call.id, type: 'function' as const, function: { name: call.function.name, arguments: call.function.arguments } }] : [],
    );
    const message: AssistantMessage = {
      role: 'assistant',
      content: choice?.message.content ?? null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    };
    return {
      message,
      usage: { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 },
    };
  } catch (error) {
    throw toModelError(error, request.agent, settings.name);
  }
}
