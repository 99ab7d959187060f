import type { ChatCompletionRequestBody } from './chat-request.js';

/** One chat-completions request as the scripted model received it. */
export interface RecordedRequest {
  /** Position in `ScriptedModel.requests` (0-based; restarts after `reset()`). */
  readonly index: number;
  /** The parsed JSON body. */
  readonly body: ChatCompletionRequestBody;
  /** `Date.now()` when the body had been read. */
  readonly receivedAt: number;
  /** Request headers, names lower-cased, repeated headers joined with `', '`. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}
