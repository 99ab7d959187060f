import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '@handoff/core';
import { errorBody } from './error-status.js';

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
    if (!match) throw new UnauthorizedError('Send an API key as "Authorization: Bearer <key>".');
    const token = match[1]!.trim();
    if (!keys.some((key) => same(key, token))) throw new UnauthorizedError('The API key is not valid.');
    await next();
  };
}

/**
 * For pages a browser opens (the queue dashboard): the same API keys, sent as a bearer token or as
 * the password of HTTP Basic authentication (any user name), so the browser asks for it once.
 */
export function browserAuth(keys: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
    const password = basic === undefined ? undefined : Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':');
    const token = bearer ?? password;
    if (token !== undefined && keys.some((key) => same(key, token))) return next();
    return c.json(
      errorBody(new UnauthorizedError('Sign in with an API key as the password (any user name), or send "Authorization: Bearer <key>".')),
      401,
      { 'www-authenticate': 'Basic realm="handoff", charset="UTF-8"' },
    );
  };
}
