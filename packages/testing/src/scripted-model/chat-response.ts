/**
 * The response side of OpenAI's chat-completions wire format: the `chat.completion` object and the
 * `chat.completion.chunk` objects of a stream.
 *
 * @module
 */

/** Token counts as sent on the wire. */
export interface WireUsage {
  /** Tokens of the request. */
  prompt_tokens: number;
  /** Tokens of the answer. */
  completion_tokens: number;
  /** Their sum. */
  total_tokens: number;
}

/** A complete tool call of a non-streamed answer. */
export interface WireToolCall {
  /** `call_<n>` or the scripted id. */
  id: string;
  /** Always `'function'`. */
  type: 'function';
  /** Name and JSON-encoded arguments. */
  function: { name: string; arguments: string };
}

/** Why the model stopped. */
export type FinishReason = 'stop' | 'tool_calls';

/** A non-streamed `chat.completion`. */
export interface ChatCompletionObject {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: WireToolCall[] };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage: WireUsage;
}

/** The part of a tool call carried by one stream chunk. */
export interface WireToolCallDelta {
  /** Position of the call in the message's `tool_calls`. */
  index: number;
  /** Present in the call's first chunk only. */
  id?: string;
  /** Present in the call's first chunk only. */
  type?: 'function';
  /** The name (first chunk, with empty arguments) or a piece of the arguments (later chunks). */
  function: { name?: string; arguments: string };
}

/** What one stream chunk adds to the message. */
export interface WireDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: null;
  tool_calls?: WireToolCallDelta[];
}

/** One `chat.completion.chunk` of a stream. */
export interface ChatCompletionChunkObject {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: WireDelta; logprobs: null; finish_reason: FinishReason | null }>;
  /** With `stream_options.include_usage`: `null` in every chunk but the last, which has no choices. */
  usage?: WireUsage | null;
}
