/**
 * The seed's four advanced strategies as one network, each run by the coordinator:
 * round-robin handoff (a pool of writers), load-based handoff (the least loaded analyst),
 * capability-based handoff (the seed's keyword analysis, with a default agent), and resilient
 * fallback (a primary agent with two fallbacks). The front desk hands off to each by meaning.
 */
import { capabilityRouter, defineAgent, defineNetwork, pool, to } from '@handoff/core';

const model = process.env.HANDOFF_MODEL ?? 'gpt-4.1-mini';
const worker = (name: string, description: string) => defineAgent({ name, description, model, instructions: `You are ${name}. ${description}.` });

export default defineNetwork({
  name: 'routing-strategies',
  entry: 'FrontDesk',
  routers: {
    writers: pool(['Writer1', 'Writer2', 'Writer3'], 'round_robin'),
    analysts: pool(['Analyst1', 'Analyst2'], 'least_loaded'),
    specialists: capabilityRouter({
      capabilities: { coding: 'CodeSpecialist', design: 'DesignSpecialist', database: 'DatabaseSpecialist' },
      default: 'Generalist',
      // The seed's AnalyzeRequiredCapability, as keyword rules.
      classify: { keywords: { coding: ['code', 'programming'], design: ['design', 'ui'], database: ['database', 'sql'] } },
    }),
  },
  agents: [
    defineAgent({
      name: 'FrontDesk',
      description: 'Routes every request',
      model,
      instructions: 'You are the front desk. Hand every request to the right team.',
      handoffs: [
        { target: to.route('writers'), toolName: 'transfer_to_writers', description: 'Writing tasks: drafts, posts, emails.' },
        { target: to.route('analysts'), toolName: 'transfer_to_analysts', description: 'Analysis of data or reports.' },
        { target: to.route('specialists'), toolName: 'transfer_to_specialists', description: 'Technical questions about code, design or databases.' },
        { agent: 'Primary', description: 'Anything else.' },
      ],
    }),
    worker('Writer1', 'Writes'),
    worker('Writer2', 'Writes'),
    worker('Writer3', 'Writes'),
    worker('Analyst1', 'Analyses'),
    worker('Analyst2', 'Analyses'),
    worker('CodeSpecialist', 'Answers coding questions'),
    worker('DesignSpecialist', 'Answers design questions'),
    worker('DatabaseSpecialist', 'Answers database questions'),
    worker('Generalist', 'Answers technical questions no specialist covers'),
    defineAgent({ name: 'Primary', description: 'Answers general questions', model, instructions: 'You are Primary.', fallbacks: ['Fallback1', 'Fallback2'] }),
    worker('Fallback1', 'Answers when Primary cannot'),
    worker('Fallback2', 'Answers when Primary and Fallback1 cannot'),
  ],
});
