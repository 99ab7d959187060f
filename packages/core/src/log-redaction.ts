/**
 * Paths pino redacts in every Handoff log line: API keys, tokens, passwords and auth headers,
 * wherever they appear one or two levels deep.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'apiKey',
  'apiKeys',
  'token',
  'password',
  'authorization',
  'headers.authorization',
  '*.apiKey',
  '*.apiKeys',
  '*.token',
  '*.password',
  '*.authorization',
  '*.headers.authorization',
  '*.*.apiKey',
  '*.*.authorization',
];

/** pino's `redact` option for every Handoff logger. */
export const LOG_REDACTION: { paths: string[]; censor: string } = { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' };

/**
 * A connection URL fit for a log line: its password (and a user name that looks like a token)
 * replaced by `[redacted]`, e.g. `postgres://handoff:[redacted]@db:5432/handoff`. A string that is
 * not a URL comes back as `[redacted]` whole, since it may hold a secret in a form not recognised.
 */
export function redactUrlCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString().replace(':redacted@', ':[redacted]@');
  } catch {
    return '[redacted]';
  }
}
