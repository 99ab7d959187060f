import type { Context } from 'hono';
import { ErrorCode, HandoffError } from '@handoff/core';

/** The request's JSON body, or a VALIDATION_FAILED error that says it is not JSON. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HandoffError(ErrorCode.VALIDATION_FAILED, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}
