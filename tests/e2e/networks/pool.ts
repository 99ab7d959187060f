/** A pool of three equivalent agents behind a round-robin router, and an agent run by replicas. */
import { defineAgent, defineNetwork, pool } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 2 };
const agent = (name: string) => defineAgent({ name, description: `Worker ${name}`, instructions: `You are ${name}.`, model });

export default defineNetwork({
  name: 'pool',
  entry: 'Solo',
  routers: { pool: pool(['W1', 'W2', 'W3'], 'round_robin') },
  agents: [agent('Solo'), agent('W1'), agent('W2'), agent('W3')],
});
