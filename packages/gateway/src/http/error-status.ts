import { ErrorCode, toErrorJson, type ErrorCode as Code, type ErrorJson } from '@handoff/core';

/** The HTTP status of each error code; codes not listed are 500. */
const STATUS: Partial<Record<Code, number>> = {
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.INVALID_CONTEXT]: 400,
  [ErrorCode.UNSUPPORTED_SCHEMA_VERSION]: 400,
  [ErrorCode.INVALID_EXPRESSION]: 400,
  [ErrorCode.INVALID_DEFINITION]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.UNKNOWN_AGENT]: 404,
  [ErrorCode.CONVERSATION_NOT_FOUND]: 404,
  [ErrorCode.CONVERSATION_NOT_STARTED]: 503,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.TIMEOUT]: 408,
  [ErrorCode.CONVERSATION_NOT_WAITING]: 409,
  [ErrorCode.VERSION_CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.OVERLOADED]: 429,
  [ErrorCode.MODEL_UNAVAILABLE]: 502,
  [ErrorCode.NETWORK_NOT_REGISTERED]: 503,
  [ErrorCode.REDIS_UNREACHABLE]: 503,
  [ErrorCode.ARCHIVE_UNAVAILABLE]: 503,
};

/** The HTTP status for an error code. */
export function statusOf(code: Code): number {
  return STATUS[code] ?? 500;
}

/** The body of every error response of the API: `{ error: { code, message, retryable, details } }`. */
export interface ErrorBody {
  error: ErrorJson & { details: Record<string, unknown> };
}

/**
 * The error response body for anything thrown: a runtime error keeps its code, message, retryable
 * flag and details (the clients rebuild the same typed error from it); anything else is INTERNAL.
 */
export function errorBody(error: unknown): ErrorBody {
  const json = toErrorJson(error);
  return { error: { ...json, details: json.details ?? {} } };
}
