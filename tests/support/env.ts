import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** The run's Redis URL (see global-setup). */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses, so tests share one Redis without seeing each other. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}
