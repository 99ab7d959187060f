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
 * A connection URL fit for logs and messages: its password (and a token given as the user) replaced
 * by `[redacted]`, e.g. `rediss://app:[redacted]@redis.internal:6380`. A string that is not a URL is
 * returned with anything between `//` and `@` redacted.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.username) return url;
    const user = parsed.password ? decodeURIComponent(parsed.username) : '';
    return `${parsed.protocol}//${user ? `${user}:` : ''}[redacted]@${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}${parsed.search}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
  }
}
