import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ErrorCode, HandoffError } from '@handoff/core';

/** Compares two strings in time independent of where they differ. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Requires `Authorization: Bearer <key>` with one of `keys`. */
export function bearerAuth(keys: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new HandoffError(ErrorCode.UNAUTHORIZED, 'Send an API key as "Authorization: Bearer <key>".');
    const token = match[1]!.trim();
    if (!keys.some((key) => same(key, token))) throw new HandoffError(ErrorCode.UNAUTHORIZED, 'The API key is not valid.');
    await next();
  };
}
