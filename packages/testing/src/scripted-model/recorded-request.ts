import type { ChatCompletionRequestBody } from './chat-request.js';

/** One chat-completions request as the scripted model received it. */
export interface RecordedRequest {
  /** Position in `ScriptedModel.requests` (0-based; restarts after `reset()`). */
  readonly index: number;
  /** The parsed JSON body. */
  readonly body: ChatCompletionRequestBody;
  /** `Date.now()` when the body had been read. */
  readonly receivedAt: number;
  /** High-resolution wall-clock ms (`performance.timeOrigin + performance.now()`) when the body had been read. */
  readonly receivedAtHr: number;
  /** High-resolution wall-clock ms when the whole answer had been handed to the socket; undefined until then. */
  readonly answeredAtHr: number | undefined;
  /** High-resolution wall-clock ms when the client went away before the answer was complete (it aborted). */
  readonly abortedAtHr: number | undefined;
  /** Request headers, names lower-cased, repeated headers joined with `', '`. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** High-resolution wall-clock milliseconds, comparable across processes of one machine. */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}
