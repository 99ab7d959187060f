import { defineAgent, defineNetwork, type NetworkDefinition } from '@handoff/core';

/** A chain A1 → A2 → … → An where each agent hands off to the next (the last answers). */
export function chainNetwork(modelUrl: string, length: number, options: { maxHops?: number } = {}): NetworkDefinition {
  const agents = Array.from({ length }, (_, i) =>
    defineAgent({
      name: `A${i + 1}`,
      description: `Agent number ${i + 1}`,
      instructions: `You are agent A${i + 1}.`,
      model: { name: 'scripted', baseURL: modelUrl, apiKey: 'test', maxRetries: 0 },
      handoffs: i + 1 < length ? [`A${i + 2}`] : [],
    }),
  );
  return defineNetwork({ name: `chain-${length}`, agents, ...(options.maxHops ? { maxHops: options.maxHops } : {}) });
}

/** Triage hands off to Billing, which answers: the two-hop conversation the memory and archive tests measure. */
export function triageBillingNetwork(modelUrl: string): NetworkDefinition {
  const model = { name: 'scripted', baseURL: modelUrl, apiKey: 'test', maxRetries: 0 };
  return defineNetwork({
    name: 'support',
    agents: [
      defineAgent({ name: 'Triage', description: 'Routes', instructions: 'You are Triage.', model, handoffs: ['Billing'] }),
      defineAgent({ name: 'Billing', description: 'Billing questions', instructions: 'You are Billing.', model }),
    ],
  });
}

/** Two agents that always hand off to each other (a loop the hop limit must stop). */
export function pingPongNetwork(modelUrl: string, options: { maxHops?: number; maxPingPong?: number } = {}): NetworkDefinition {
  const model = { name: 'scripted', baseURL: modelUrl, apiKey: 'test', maxRetries: 0 };
  return defineNetwork({
    name: 'ping-pong',
    agents: [
      defineAgent({ name: 'Ping', instructions: 'You are Ping.', model, handoffs: ['Pong'] }),
      defineAgent({ name: 'Pong', instructions: 'You are Pong.', model, handoffs: ['Ping'] }),
    ],
    ...(options.maxHops ? { maxHops: options.maxHops } : {}),
    ...(options.maxPingPong ? { limits: { maxPingPong: options.maxPingPong } } : {}),
  });
}
