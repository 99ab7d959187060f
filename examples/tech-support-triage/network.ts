/**
 * AG2's tech-support triage, from the handoffs guide: a triage agent routes by meaning (LLM
 * conditions) to general support or the tech agent, which routes to a computer or smartphone
 * specialist. When the user says the fix did not work, a tool sets the `repeat_issue` flag, and a
 * context condition then sends the conversation to advanced troubleshooting without a model call.
 * Specialists hand the conversation back to the user after answering (after-work).
 */
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool, replyResult, to } from '@handoff/core';

const model = process.env.HANDOFF_MODEL ?? 'gpt-4.1-mini';

/** Records that the user's issue came back; the specialist's next turn escalates. */
export const checkRepeatIssue = defineTool({
  name: 'check_repeat_issue',
  description: 'Call this when the user says the suggested fix did not solve their problem.',
  parameters: z.object({ summary: z.string().describe('What the user reported') }),
  handler: ({ summary }, ctx) =>
    replyResult({
      message: `Noted as a repeat issue: ${summary}`,
      context: { repeat_issue: true, issue_count: Number(ctx.context.issue_count ?? 0) + 1 },
      target: to.stay(),
    }),
});

const specialist = (name: string, device: string) =>
  defineAgent({
    name,
    description: `Solves ${device} problems`,
    model,
    instructions: ({ context }) =>
      `You are a ${device} specialist. Give one concrete fix. The user has reported this issue ${Number(context.issue_count ?? 0)} time(s) before.`,
    tools: [checkRepeatIssue],
    contextConditions: [{ target: 'AdvancedTroubleshooting', condition: '${repeat_issue}' }],
    afterWork: to.revertToUser(),
  });

export default defineNetwork({
  name: 'tech-support-triage',
  entry: 'Triage',
  agents: [
    defineAgent({
      name: 'Triage',
      description: 'Routes the first message',
      model,
      instructions: 'You are the triage agent. Route technical problems to the tech agent and everything else to general support.',
      handoffs: [
        { agent: 'TechAgent', description: 'When the user has a technical problem with a device.' },
        { agent: 'GeneralSupport', description: 'When the question is not technical.' },
      ],
    }),
    defineAgent({ name: 'GeneralSupport', description: 'Answers non-technical questions', model, instructions: 'You answer general questions.', afterWork: to.revertToUser() }),
    defineAgent({
      name: 'TechAgent',
      description: 'Routes technical problems by device',
      model,
      instructions: 'You are the tech agent. Find out which device the problem is on.',
      handoffs: [
        { agent: 'ComputerSpecialist', description: 'When the problem is on a laptop or desktop computer.' },
        { agent: 'SmartphoneSpecialist', description: 'When the problem is on a smartphone.' },
      ],
      afterWork: to.revertToUser(),
    }),
    specialist('ComputerSpecialist', 'computer'),
    specialist('SmartphoneSpecialist', 'smartphone'),
    defineAgent({
      name: 'AdvancedTroubleshooting',
      description: 'Handles issues that came back after a fix',
      model,
      instructions: 'You are the advanced troubleshooting specialist. The first fix did not work; go deeper.',
      afterWork: to.revertToUser(),
    }),
  ],
});
