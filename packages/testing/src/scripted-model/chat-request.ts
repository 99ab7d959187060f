/**
 * The request side of OpenAI's `POST /v1/chat/completions`, typed loosely but usefully: the fields
 * tests look at are named, everything else is still there as `unknown`.
 *
 * @module
 */

/** One part of a multi-part message content (`{type:'text', text}`, `{type:'image_url', …}`, …). */
export interface ChatContentPart {
  /** The part's kind, e.g. `'text'`. */
  type: string;
  /** The text of a `'text'` part. */
  text?: string;
  /** Any other field the client sent. */
  [key: string]: unknown;
}

/** A tool call as it appears inside an assistant message that the client sends back. */
export interface ChatRequestToolCall {
  /** The call's id, echoed by the matching `tool` message's `tool_call_id`. */
  id: string;
  /** Always `'function'` for function tools. */
  type: string;
  /** The function that was called. */
  function: { name: string; arguments: string };
}

/** One message of the conversation sent by the client. */
export interface ChatMessage {
  /** `'system'`, `'developer'`, `'user'`, `'assistant'` or `'tool'`. */
  role: string;
  /** Text, a list of parts, or `null` (assistant messages that only call tools). */
  content?: string | ChatContentPart[] | null;
  /** Optional participant name. */
  name?: string;
  /** Tool calls made by an assistant message. */
  tool_calls?: ChatRequestToolCall[];
  /** For `tool` messages: the id of the call this message answers. */
  tool_call_id?: string;
  /** Any other field the client sent. */
  [key: string]: unknown;
}

/** A tool offered to the model. */
export interface ChatTool {
  /** `'function'` for function tools. */
  type: string;
  /** The function's name, description and JSON-schema parameters. */
  function?: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
  /** Any other field the client sent. */
  [key: string]: unknown;
}

/** The JSON body of a chat-completions request. */
export interface ChatCompletionRequestBody {
  /** The model name the client asked for (echoed back in the response). */
  model: string;
  /** The conversation so far. */
  messages: ChatMessage[];
  /** Tools the model may call. */
  tools?: ChatTool[];
  /** `'auto'`, `'none'`, `'required'` or a named tool. */
  tool_choice?: unknown;
  /** Whether the client asked for server-sent events. */
  stream?: boolean | null;
  /** Streaming options; `include_usage` adds a final usage-only chunk. */
  stream_options?: { include_usage?: boolean | null } | null;
  /** Sampling temperature. */
  temperature?: number | null;
  /** Legacy output-token limit. */
  max_tokens?: number | null;
  /** Output-token limit. */
  max_completion_tokens?: number | null;
  /** Whether the model may call several tools at once. */
  parallel_tool_calls?: boolean | null;
  /** Structured-output settings. */
  response_format?: unknown;
  /** Any other field the client sent. */
  [key: string]: unknown;
}

/** Why a body is not a usable chat-completions request. */
export class InvalidChatRequestError extends Error {
  override readonly name = 'InvalidChatRequestError';
}

/**
 * Checks that a parsed JSON value has the shape of a chat-completions request.
 *
 * @param value - the parsed request body
 * @returns the same value, typed
 * @throws {@link InvalidChatRequestError} when `messages` is not an array of objects with a `role`
 */
export function asChatCompletionRequest(value: unknown): ChatCompletionRequestBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidChatRequestError('request body must be a JSON object');
  }
  const body = value as Record<string, unknown>;
  const messages = body['messages'];
  if (!Array.isArray(messages)) throw new InvalidChatRequestError("'messages' must be an array");
  for (const [i, m] of messages.entries()) {
    if (typeof m !== 'object' || m === null || typeof (m as Record<string, unknown>)['role'] !== 'string') {
      throw new InvalidChatRequestError(`'messages[${i}]' must be an object with a string 'role'`);
    }
  }
  if (body['tools'] !== undefined && !Array.isArray(body['tools'])) {
    throw new InvalidChatRequestError("'tools' must be an array");
  }
  return body as ChatCompletionRequestBody;
}

/**
 * The plain text of a message's content: a string as is, the `text` of every text part joined, or
 * `''` for `null`/absent content.
 *
 * @param content - a message's `content`
 */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}
