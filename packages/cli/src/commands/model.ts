import { startScriptedModel } from '@handoff/testing/model';
import { z } from 'zod';
import { DefinitionError } from '@handoff/core';
import { readModelRules } from '../model-rules.js';

const ModelFlags = z.object({
  rules: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65_535).default(4010),
  host: z.string().min(1).default('127.0.0.1'),
});

/**
 * `handoff model --rules rules.json`: serves the scripted OpenAI-compatible model
 * (`@handoff/testing/model`) for offline runs, until SIGINT/SIGTERM. Prints its base URL on stdout
 * (`OPENAI_BASE_URL=http://host:port/v1`), and one line on stderr per request no rule answered.
 */
export async function modelCommand(raw: Record<string, unknown>): Promise<void> {
  const parsed = ModelFlags.safeParse(raw);
  if (!parsed.success) throw new DefinitionError(`Invalid options: ${parsed.error.issues.map((i) => `--${i.path.join('.')} ${i.message}`).join('; ')}`);
  const { rules, port, host } = parsed.data;
  const model = await startScriptedModel({ ...readModelRules(rules), port, host });
  process.stdout.write(`handoff model: scripted model listening; point the workers at it with\nOPENAI_BASE_URL=${model.url}\n`);
  let reported = 0;
  const unmatched = setInterval(() => {
    for (const request of model.unmatched.slice(reported)) {
      const last = request.body.messages.at(-1);
      process.stderr.write(`handoff model: no rule matched a request (answered 500); its last message: ${JSON.stringify(last ?? null).slice(0, 300)}\n`);
    }
    reported = model.unmatched.length;
  }, 200);
  const stop = () => {
    clearInterval(unmatched);
    void model.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
