import type { z } from 'zod';
import { SCHEMA_VERSION } from './constants.js';
import { PayloadTooLargeError, UnsupportedSchemaVersionError, ValidationError } from './errors/index.js';

/** Formats zod issues as `path: message` lines a human can act on. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/**
 * Parses `value` with `schema`, or throws a {@link ValidationError} naming `what` and every bad field.
 * A value whose `schemaVersion` is present but not this runtime's raises {@link UnsupportedSchemaVersionError}
 * instead, so that a version mismatch is never reported as a random field error.
 */
export function parseBoundary<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  if (value !== null && typeof value === 'object' && 'schemaVersion' in value) {
    const version = (value as { schemaVersion: unknown }).schemaVersion;
    if (version !== SCHEMA_VERSION) throw new UnsupportedSchemaVersionError(what, version, SCHEMA_VERSION);
  }
  let parsed: z.ZodSafeParseResult<z.output<S>>;
  try {
    parsed = schema.safeParse(value);
  } catch (error) {
    // zod itself can throw on exotic objects (e.g. a `length` that has no primitive value): still a refusal.
    throw new ValidationError(`${what} is invalid: it could not be read (${error instanceof Error ? error.message : typeof error})`, { cause: error });
  }
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error);
  throw new ValidationError(`${what} is invalid: ${issues.slice(0, 5).join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`, {
    details: { issues },
  });
}

/**
 * Throws {@link PayloadTooLargeError} when `value`, as JSON, is larger than `limit` bytes.
 * (Characters are counted, a lower bound of the UTF-8 size that is cheap to get.) `size`, when the
 * caller has the JSON text already, is its length, and saves serializing the value again.
 */
export function assertPayloadSize(value: unknown, limit: number, what: string, size = JSON.stringify(value ?? null).length): void {
  if (size > limit) throw new PayloadTooLargeError(what, size, limit);
}

/**
 * Text read from a queue or a list, as JSON when it is JSON, else as it is: what does not parse
 * still reaches the validation that says why it is refused (and the dead letter keeps it whole).
 */
export function parseJsonOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
