import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ErrorCode, HandoffError, Message, errorFromJson, parseBoundary, type ConversationResult } from '@handoff/core';
import type { RedisHandoffClient } from '@handoff/client';
import { jsonBody } from './json-body.js';

const ChatRequest = z.object({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});

function usageOf(result: ConversationResult) {
  const { promptTokens, completionTokens } = result.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/**
 * `POST /v1/chat/completions`, OpenAI-compatible: `model` names the entry agent (or router),
 * `messages` are the conversation, and the whole network answers as if it were one model — the
 * final answer as the completion, or with `stream: true` every agent's streamed text as
 * `chat.completion.chunk`s. The conversation id is in the `x-handoff-conversation-id` header.
 */
export function chatCompletionRoutes(client: RedisHandoffClient): Hono {
  const app = new Hono();
  app.post('/completions', async (c) => {
    const request = parseBoundary(ChatRequest, await jsonBody(c), 'Chat completion request');
    const handle = await client.start({ agent: request.model, input: request.messages });
    const id = `chatcmpl-${handle.id}`;
    const created = Math.floor(Date.now() / 1000);
    c.header('x-handoff-conversation-id', handle.id);

    if (!request.stream) {
      const result = await handle.result({ timeoutMs: 600_000 });
      if (result.status === 'failed' || result.status === 'cancelled') throw result.error ? errorFromJson(result.error) : new HandoffError(ErrorCode.INTERNAL, `The conversation was ${result.status} without an error.`);
      return c.json({
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content: result.output ?? '', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: usageOf(result),
      });
    }

    return streamSSE(c, async (stream) => {
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        stream.writeSSE({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }) });
      await chunk({ role: 'assistant', content: '' });
      for await (const event of handle.events()) {
        if (event.type === 'text.delta') await chunk({ content: event.text });
        if (event.type === 'conversation.failed' || event.type === 'conversation.cancelled') {
          await stream.writeSSE({ data: JSON.stringify({ error: event.result.error ?? { code: 'INTERNAL', message: event.result.reason } }) });
          return;
        }
        if (event.type === 'conversation.completed' || event.type === 'awaiting.user') {
          await chunk({}, 'stop');
          if (request.stream_options?.include_usage) {
            const result = await handle.result({ timeoutMs: 5_000 });
            await stream.writeSSE({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [], usage: usageOf(result) }) });
          }
          break;
        }
      }
      await stream.writeSSE({ data: '[DONE]' });
    });
  });
  return app;
}
