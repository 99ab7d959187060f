import type { ContextVariables } from '../schemas/json.js';

/**
 * Type-level helpers of typed networks: they carry agent names and the context type from
 * `defineAgent` to `defineNetwork` and on to the clients. Nothing here exists at run time.
 */

/**
 * `F` as a method type: assignable whatever its parameter types (TypeScript checks method
 * parameters bivariantly), so an agent typed with a context stays assignable to `AgentDefinition`.
 */
export type Bivariant<F extends (...args: never[]) => unknown> = { bivarianceHack(...args: Parameters<F>): ReturnType<F> }['bivarianceHack'];

/** The context of an untyped network: any JSON values under any names. */
export type UntypedContext = ContextVariables;

/** The variables a `${name}` template refers to, as a union of literal types. */
export type TemplateVariables<S extends string> = S extends `${string}\${${infer Name}}${infer Rest}` ? Name | TemplateVariables<Rest> : never;

/** Whitespace trimmed off both ends of a string literal type. */
type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** The variables a condition or `available` refers to: `${name}`s of an expression, or the bare variable name. */
export type ConditionVariables<S extends string> = S extends `${string}\${${string}` ? TemplateVariables<S> : Trim<S>;

/** The variables of `Used` that a context of type `Ctx` does not have (none when `Ctx` takes any name). */
export type UnknownVariables<Used extends string, Ctx> = string extends keyof Ctx ? never : string extends Used ? never : Exclude<Used, keyof Ctx & string>;

/** The names of `Used` that are not in `Known` (none when either is the wide `string`). */
export type UnknownNames<Used extends string, Known extends string> = string extends Used ? never : string extends Known ? never : Exclude<Used, Known>;

/**
 * `unknown` when `Missing` is `never`; otherwise an object type with a required property whose
 * name says what is wrong, so that `tsc` rejects the call and shows the offending names.
 */
export type Require<Missing, Problem extends string> = [Missing] extends [never] ? unknown : { [K in Problem]: Missing };

/** A patch of a context of type `Ctx`: some of its variables (any JSON variables for an untyped context). */
export type ContextPatch<Ctx> = string extends keyof Ctx ? Ctx : Partial<Ctx>;
