import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DefinitionError, formatIssues } from '@handoff/core';
import { and, hasTool, lastUserIncludes, systemIncludes, type ScriptRule, type ScriptedModelOptions } from '@handoff/testing/model';

/** When a rule answers: every condition given must hold; none given — every request. */
export const ModelRuleWhen = z.strictObject({
  /** The last user message contains this text. */
  lastUserIncludes: z.string().optional(),
  /** The system (instructions) text contains this text. */
  systemIncludes: z.string().optional(),
  /** The request offers a tool of this name (e.g. `transfer_to_Billing`). */
  hasTool: z.string().optional(),
});

/** What a rule answers: text, tool calls, or an HTTP error. */
export const ModelRuleReply = z.strictObject({
  /** Assistant text, streamed in chunks. */
  content: z.string().optional(),
  /** Tool calls, in order (a transfer tool hands off). */
  toolCalls: z.array(z.strictObject({ name: z.string().min(1), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() })).optional(),
  /** Wait this long before answering, in ms. */
  delayMs: z.number().int().min(0).optional(),
  /** Answer with this HTTP error instead (e.g. `{ "status": 503 }`). */
  error: z.strictObject({ status: z.number().int().min(400).max(599), message: z.string().optional(), type: z.string().optional(), code: z.string().nullable().optional() }).optional(),
});

/** The file of `handoff model --rules <file>`: rules tried in order, the first that matches and has uses left answers. */
export const ModelRulesFile = z.strictObject({
  rules: z.array(z.strictObject({
    /** A name for logs. */
    name: z.string().optional(),
    when: ModelRuleWhen.optional(),
    reply: ModelRuleReply,
    /** How many requests it answers; absent: unlimited. */
    times: z.number().int().min(1).optional(),
  })).min(1, 'needs at least one rule'),
  /** Milliseconds to wait before every answer. */
  latencyMs: z.number().int().min(0).optional(),
  /** Characters per streamed delta. */
  chunkSize: z.number().int().min(1).optional(),
});
/** The rules file of `handoff model`. */
export type ModelRulesFile = z.output<typeof ModelRulesFile>;

/**
 * Reads and validates a rules file, and turns it into the scripted model's options.
 * @throws DefinitionError naming the file and each problem
 */
export function readModelRules(path: string): Pick<ScriptedModelOptions, 'rules' | 'latencyMs' | 'chunkSize'> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DefinitionError(`--rules ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = ModelRulesFile.safeParse(Array.isArray(raw) ? { rules: raw } : raw);
  if (!parsed.success) throw new DefinitionError(`--rules ${path}: ${formatIssues(parsed.error).join('; ')}`);
  const { rules, latencyMs, chunkSize } = parsed.data;
  return {
    rules: rules.map((rule): ScriptRule => {
      const predicates = [
        ...(rule.when?.lastUserIncludes === undefined ? [] : [lastUserIncludes(rule.when.lastUserIncludes)]),
        ...(rule.when?.systemIncludes === undefined ? [] : [systemIncludes(rule.when.systemIncludes)]),
        ...(rule.when?.hasTool === undefined ? [] : [hasTool(rule.when.hasTool)]),
      ];
      return {
        ...(rule.name === undefined ? {} : { name: rule.name }),
        ...(predicates.length === 0 ? {} : { when: and(...predicates) }),
        reply: JSON.parse(JSON.stringify(rule.reply)) as ScriptRule['reply'],
        ...(rule.times === undefined ? {} : { times: rule.times }),
      };
    }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(chunkSize === undefined ? {} : { chunkSize }),
  };
}
