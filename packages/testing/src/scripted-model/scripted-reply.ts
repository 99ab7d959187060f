/**
 * What the scripted model answers to one request.
 *
 * @module
 */

/** A tool call the scripted model makes. */
export interface ScriptedToolCall {
  /** The function to call. */
  name: string;
  /**
   * The call's arguments. An object is sent as `JSON.stringify(arguments)`; a string is sent
   * verbatim, so a test can send invalid JSON. Absent: `'{}'`.
   */
  arguments?: string | Record<string, unknown>;
  /** The call's id; absent: a generated `call_<n>`. */
  id?: string;
}

/** An HTTP error answer, sent with OpenAI's error body `{error:{message,type,param,code}}`. */
export interface ScriptedError {
  /** HTTP status, e.g. 429 or 503. */
  status: number;
  /** `error.message`; absent: `scripted error <status>`. */
  message?: string;
  /** `error.type`; absent: `server_error` for 5xx, else `invalid_request_error`. */
  type?: string;
  /** `error.code`; absent: `null`. */
  code?: string | null;
  /** Extra response headers, e.g. `{'retry-after': '1'}` or `{'x-should-retry': 'false'}`. */
  headers?: Record<string, string>;
}

/** Token counts to report; `total_tokens` is their sum. */
export interface ScriptedUsage {
  /** Tokens of the request. */
  prompt_tokens: number;
  /** Tokens of the answer. */
  completion_tokens: number;
}

/** One answer of the scripted model. With neither `content` nor `toolCalls` the answer is `''`. */
export interface ScriptedReply {
  /** Assistant text (sent in several chunks of `chunkSize` characters when streamed). */
  content?: string;
  /** Tool calls, in order; `finish_reason` is then `tool_calls`. */
  toolCalls?: ScriptedToolCall[];
  /** Wait this many milliseconds before answering (on top of the server's `latencyMs`). */
  delayMs?: number;
  /** Answer only after this promise settles (fulfilled or rejected): holds a turn open. */
  hold?: Promise<unknown>;
  /** Never answer: the connection stays open until the client gives up or the server closes. */
  hang?: boolean;
  /**
   * When streaming, wait this long between chunks, so the client sees the answer arrive over time
   * (as from a real model) and can cancel mid-stream. Default 0: the whole stream is sent at once.
   */
  chunkDelayMs?: number;
  /** Answer with this HTTP error instead of a completion. */
  error?: ScriptedError;
  /** Token counts to report; absent: rough counts (characters / 4). */
  usage?: ScriptedUsage;
}
