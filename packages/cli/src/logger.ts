import pino, { type Logger } from 'pino';

/** The process logger: JSON lines on stderr, readable ones when stderr is a terminal. */
export function createLogger(name: string): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  if (process.stderr.isTTY) {
    return pino({ level, name }, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'HH:MM:ss.l' } }));
  }
  return pino({ level, name }, pino.destination(2));
}
