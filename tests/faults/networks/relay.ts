/**
 * The network of the fault tests, loaded by the `handoff` processes they start: six agents in a
 * line, R1 → R2 → … → R6. The model endpoint comes from OPENAI_BASE_URL (the test's scripted model).
 */
import { defineAgent, defineNetwork } from '@handoff/core';

const agents = Array.from({ length: 6 }, (_, i) =>
  defineAgent({
    name: `R${i + 1}`,
    description: `Relay ${i + 1}`,
    instructions: `You are relay ${i + 1}.`,
    model: { name: 'scripted', maxRetries: 5, timeoutMs: 30_000 },
    handoffs: i < 5 ? [`R${i + 2}`] : [],
  }),
);

export default defineNetwork({ name: 'relay', agents, maxHops: 10 });
