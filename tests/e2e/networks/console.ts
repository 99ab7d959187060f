/**
 * The web console's end-to-end network: Intake → Research → Writer, a chain of two handoffs. Research
 * looks the topic up with a tool (which sets a context variable) before handing to Writer; Writer
 * may hand back to Intake, so the graph has a cycle to draw. Research's `archive` tool needs approval.
 */
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 0 };

const lookup = defineTool({
  name: 'lookup',
  description: 'Look a topic up in the notes',
  parameters: z.object({ topic: z.string() }),
  handler: async ({ topic }, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    ctx.setContext({ topic });
    return `Notes about ${topic}: they hold hands while sleeping.`;
  },
});

/** A tool that waits for a person's approval (the console's approve button). */
const archive = defineTool({
  name: 'archive',
  description: 'Archive the notes about a topic',
  parameters: z.object({ topic: z.string() }),
  needsApproval: true,
  handler: async ({ topic }) => `Archived the notes about ${topic}.`,
});

const intake = defineAgent({ name: 'Intake', description: 'Takes requests', instructions: 'You are Intake.', model, handoffs: ['Research'] });
const research = defineAgent({ name: 'Research', description: 'Finds facts', instructions: 'You are Research.', model, tools: [lookup, archive], handoffs: ['Writer'] });
const writer = defineAgent({ name: 'Writer', description: 'Writes the answer', instructions: 'You are Writer.', model, handoffs: ['Intake'] });

export default defineNetwork({ name: 'console', entry: 'Intake', agents: [intake, research, writer] });
