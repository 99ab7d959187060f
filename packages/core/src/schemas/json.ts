import { z } from 'zod';
import { MAX_JSON_DEPTH } from '../constants.js';

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Whether `value` nests arrays and objects deeper than `limit` levels, found without recursion (so
 * that a value nested 100,000 levels is refused instead of overflowing the stack).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Any JSON value, checked recursively (only ever given values whose depth was checked). */
const JsonTree: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonTree), z.record(z.string(), JsonTree)]),
);

/** Schema of any JSON value (finite numbers only), nested at most {@link MAX_JSON_DEPTH} levels. */
export const JsonValue: z.ZodType<JsonValue> = z
  .unknown()
  .superRefine((value, ctx) => {
    if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
      ctx.addIssue({ code: 'custom', message: `nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels, the limit (MAX_JSON_DEPTH); flatten the value` });
    }
  })
  .pipe(JsonTree);

/** Context variables: the conversation's shared, JSON-serialisable state, visible to every agent. */
export const ContextVariables = z.record(z.string(), JsonValue);
/** Context variables: the conversation's shared, JSON-serialisable state. */
export type ContextVariables = z.infer<typeof ContextVariables>;
