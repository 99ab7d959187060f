import { z } from 'zod';

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Schema of any JSON value (finite numbers only). */
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(z.string(), JsonValue)]),
);

/** Context variables: the conversation's shared, JSON-serialisable state, visible to every agent. */
export const ContextVariables = z.record(z.string(), JsonValue);
/** Context variables: the conversation's shared, JSON-serialisable state. */
export type ContextVariables = z.infer<typeof ContextVariables>;
