/** OpenAI's error response body. */
export interface OpenAIErrorBody {
  /** The error: message, type, param and code, as OpenAI sends them. */
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * Builds OpenAI's error body.
 *
 * @param status - the HTTP status (chooses the default `type`)
 * @param message - `error.message`
 * @param type - `error.type`; absent: `server_error` for 5xx, else `invalid_request_error`
 * @param code - `error.code`; absent: `null`
 */
export function openAIErrorBody(status: number, message: string, type?: string, code?: string | null): OpenAIErrorBody {
  return {
    error: {
      message,
      type: type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: null,
      code: code ?? null,
    },
  };
}
