import { z } from 'zod';
import { DefinitionError, formatIssues } from '@handoff/core';

/** Flags shared by the commands that run a network. */
export const RunFlags = z.object({
  network: z.string().min(1, 'is required: the path of a module whose default export is the network'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').optional(),
  concurrency: z.coerce.number().int().min(1).max(10_000).optional(),
  agents: z
    .string()
    .transform((list) => list.split(',').map((a) => a.trim()).filter(Boolean))
    .optional(),
});
/** Flags shared by the commands that run a network. */
export type RunFlags = z.output<typeof RunFlags>;

/** Validates command flags; the error names each bad flag. */
export function parseFlags(raw: unknown): RunFlags {
  const parsed = RunFlags.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error).map((line) => `--${line.replace(/^(\w+)/, (m) => m.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))}`);
  throw new DefinitionError(`Invalid options: ${issues.join('; ')}`, { details: { issues } });
}

/** The Redis settings the flags give (environment defaults apply to the rest). */
export function redisConfigFromFlags(flags: RunFlags): { url?: string; prefix?: string } {
  return { ...(flags.redisUrl ? { url: flags.redisUrl } : {}), ...(flags.prefix ? { prefix: flags.prefix } : {}) };
}
