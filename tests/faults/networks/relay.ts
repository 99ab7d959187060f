/**
 * The network of the fault tests, loaded by the `handoff` processes they start: six agents in a
 * line, R1 → R2 → … → R6. The model endpoint comes from OPENAI_BASE_URL (the test's scripted model).
 * Every agent has `AppendLine`, a tool with a side effect the tests count: it appends a JSON line
 * (`effect`, and `started` first when it is asked to take its time) to the file
 * HANDOFF_TEST_EFFECTS_FILE names, with its conversation, idempotency key and process id.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool } from '@handoff/core';

const appendLine = defineTool({
  name: 'AppendLine',
  description: 'Appends a line to the effects file (a side effect the fault tests count).',
  parameters: z.object({ line: z.string(), holdMs: z.number().int().min(0).optional() }),
  timeoutMs: 20_000,
  handler: async ({ line, holdMs }, ctx) => {
    const file = process.env.HANDOFF_TEST_EFFECTS_FILE;
    if (!file) throw new Error('HANDOFF_TEST_EFFECTS_FILE is not set');
    const record = (kind: 'started' | 'effect') =>
      appendFileSync(file, `${JSON.stringify({ kind, conversationId: ctx.conversationId, key: ctx.idempotencyKey, line, pid: process.pid, at: Date.now() })}\n`);
    if (holdMs) {
      record('started');
      await new Promise((resolve) => setTimeout(resolve, holdMs));
    }
    record('effect');
    return `appended ${line}`;
  },
});

const agents = Array.from({ length: 6 }, (_, i) =>
  defineAgent({
    name: `R${i + 1}`,
    description: `Relay ${i + 1}`,
    instructions: `You are relay ${i + 1}.`,
    model: { name: 'scripted', maxRetries: 5, timeoutMs: 30_000 },
    handoffs: i < 5 ? [`R${i + 2}`] : [],
    tools: [appendLine],
  }),
);

export default defineNetwork({ name: 'relay', agents, maxHops: 10 });
