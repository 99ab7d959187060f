/** Triage looks an order up with a tool, then hands off to Billing: one conversation, two agents, a tool call. */
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 0 };
const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Finds an order by id.',
  parameters: z.object({ orderId: z.string() }),
  handler: ({ orderId }) => ({ orderId, status: 'charged twice' }),
});

export default defineNetwork({
  name: 'traced',
  agents: [
    defineAgent({ name: 'Triage', instructions: 'You are Triage.', model, tools: [lookupOrder], handoffs: ['Billing'] }),
    defineAgent({ name: 'Billing', instructions: 'You are Billing.', model }),
  ],
});
