import { existsSync, readFileSync } from 'node:fs';

/** One line the relay network's `AppendLine` tool wrote: a call that started (when held), or its side effect. */
export interface EffectLine {
  kind: 'started' | 'effect';
  conversationId: string;
  /** The handler's idempotency key, `<hopId>:<toolCallId>`. */
  key: string;
  line: string;
  /** The worker process that ran the handler. */
  pid: number;
  /** When it was written (ms since epoch). */
  at: number;
}

/** The lines of an effects file (none when the file does not exist yet). */
export function readEffects(file: string): EffectLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EffectLine);
}
