/**
 * The network of the edge-case end-to-end tests: `Front` answers (or hangs, as the scripted model
 * says), and `Limited` accepts at most one waiting hop and has no worker in those tests, so a
 * second start on it is refused as overloaded. `Careful` has a tool that needs a person's approval.
 */
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 0 };

const front = defineAgent({ name: 'Front', description: 'Answers', instructions: 'You are Front.', model });
const limited = defineAgent({ name: 'Limited', description: 'Never served', instructions: 'You are Limited.', model, maxWaiting: 1 });

const wipe = defineTool({
  name: 'wipe_cache',
  description: 'Wipe a cache',
  parameters: z.object({ cache: z.string() }),
  needsApproval: true,
  handler: async ({ cache }) => `wiped ${cache}`,
});
const careful = defineAgent({ name: 'Careful', description: 'Asks before wiping', instructions: 'You are Careful.', model, tools: [wipe] });

export default defineNetwork({ name: 'edges', entry: 'Front', agents: [front, limited, careful] });
