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
