import { z } from 'zod';
import { ErrorCode } from './error-codes.js';

/** The JSON form of every runtime error, as stored in Redis, events and HTTP bodies. */
export const ErrorJson = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});
/** The JSON form of every runtime error. */
export type ErrorJson = z.infer<typeof ErrorJson>;

/** Options common to every {@link HandoffError}. */
export interface HandoffErrorOptions {
  /** Structured facts about the failure (field paths, agent names, limits). */
  details?: Record<string, unknown>;
  /** The underlying error, if any. */
  cause?: unknown;
  /** Overrides the class's default retryability. */
  retryable?: boolean;
}

/**
 * The root of the runtime's error hierarchy. Every error carries a stable {@link ErrorCode}, a
 * retryable flag that retry machinery reads, optional details, and a JSON form that survives
 * Redis and HTTP ({@link HandoffError.toJSON} / {@link HandoffError.fromJSON}).
 */
export class HandoffError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Whether trying the same thing again may succeed. */
  readonly retryable: boolean;
  /** Structured facts about the failure. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: HandoffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** The serialisable form of this error. */
  toJSON(): ErrorJson {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** Rebuilds an error from its JSON form (the class is the base class; the code is exact). */
  static fromJSON(json: ErrorJson): HandoffError {
    return new HandoffError(json.code, json.message, {
      retryable: json.retryable,
      ...(json.details === undefined ? {} : { details: json.details }),
    });
  }
}

/** True when `value` is a {@link HandoffError} (checked structurally, so duplicate package copies agree). */
export function isHandoffError(value: unknown): value is HandoffError {
  if (value instanceof HandoffError) return true;
  if (!(value instanceof Error)) return false;
  const candidate = value as Error & { code?: unknown; retryable?: unknown };
  return (
    typeof candidate.code === 'string' &&
    (Object.values(ErrorCode) as string[]).includes(candidate.code) &&
    typeof candidate.retryable === 'boolean'
  );
}

/** Converts anything thrown into the JSON error form, keeping codes of runtime errors. */
export function toErrorJson(error: unknown, fallbackCode: ErrorCode = ErrorCode.INTERNAL): ErrorJson {
  if (isHandoffError(error)) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return { code: fallbackCode, message, retryable: false };
}
