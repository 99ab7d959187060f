/**
 * The network of the no-stall tests, loaded by the `handoff` processes they start. The model
 * endpoint comes from OPENAI_BASE_URL (the test's scripted model).
 * - Front hands off to Primary (whose fallback is Backup) and to Clerk, starts nested chats with
 *   Helper, and asks a person to approve its refunds.
 * - Clerk and Helper wait for their user after every answer (revert to user); Helper ends its
 *   chat with `finish`.
 * - Queued has a small queue limit and no worker: its hops wait, and starts past the limit are refused.
 */
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool, to } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 5, timeoutMs: 30_000 };

const refund = defineTool({
  name: 'refund',
  description: 'Refund an amount to the customer',
  parameters: z.object({ amount: z.number() }),
  needsApproval: true,
  handler: async ({ amount }) => `refunded ${amount}`,
});

export default defineNetwork({
  name: 'no-stall',
  maxHops: 10,
  agents: [
    defineAgent({
      name: 'Front',
      description: 'The front desk',
      instructions: 'You are Front.',
      model,
      tools: [refund],
      handoffs: ['Primary', 'Clerk', { target: to.nestedChat([{ agent: 'Helper' }]), toolName: 'ask_helper', description: 'Ask the helper in a nested chat' }],
    }),
    defineAgent({ name: 'Primary', description: 'Answers', instructions: 'You are Primary.', model, fallbacks: ['Backup'] }),
    defineAgent({ name: 'Backup', description: 'Answers when Primary cannot', instructions: 'You are Backup.', model }),
    defineAgent({ name: 'Clerk', description: 'Asks the user', instructions: 'You are Clerk.', model, afterWork: to.revertToUser() }),
    defineAgent({
      name: 'Helper',
      description: 'Helps in nested chats',
      instructions: 'You are Helper.',
      model,
      handoffs: [{ target: to.terminate(), toolName: 'finish', description: 'End the chat' }],
      afterWork: to.revertToUser(),
    }),
    defineAgent({ name: 'Queued', description: 'Never served', instructions: 'You are Queued.', model, maxWaiting: 3 }),
  ],
});
