import { z } from 'zod';

/** What to do about a schema from zod 3 (Handoff reads zod 4's internals to make JSON Schema and validate). */
const ZOD_3_FIX =
  'is a zod 3 schema; Handoff needs zod 4 (its peer dependency, ^4.1.0). Install it (npm install zod@^4.1.0) and build the schema with ' +
  "`import { z } from 'zod'`";

/**
 * Why `value` cannot be a zod object schema of this runtime, or `undefined` when it can. A zod 3
 * schema (it has `_def` but not zod 4's `_zod`) gets a message naming the fix instead of a crash
 * deep in JSON Schema generation.
 */
export function zodObjectProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'must be a zod object schema (z.object({ … }))';
  if (!('_zod' in value) && '_def' in value) return ZOD_3_FIX;
  if (!(value instanceof z.ZodObject)) return 'must be a zod object schema (z.object({ … }))';
  return undefined;
}

/** A zod 4 object schema given by the user (tool parameters, handoff arguments); the issue names the fix for a zod 3 one. */
export const UserZodObject = z.custom<z.ZodObject>((value) => zodObjectProblem(value) === undefined, {
  error: (issue) => zodObjectProblem(issue.input) ?? 'must be a zod object schema',
});
