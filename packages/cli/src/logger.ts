import pino, { type Logger, type LoggerOptions } from 'pino';
import { LOG_REDACTION } from '@handoff/core';

/**
 * The process logger: JSON lines on stderr (readable ones when stderr is a terminal), with API
 * keys, tokens, passwords and auth headers redacted. Pass `destination` to log elsewhere (tests).
 */
export function createLogger(name: string, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = { level: process.env.LOG_LEVEL ?? 'info', name, redact: LOG_REDACTION };
  if (destination) return pino(options, destination);
  if (process.stderr.isTTY) {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'HH:MM:ss.l' } }));
  }
  return pino(options, pino.destination(2));
}
