/**
 * The network of the edge-case end-to-end tests: `Front` answers (or hangs, as the scripted model
 * says), and `Limited` accepts at most one waiting hop and has no worker in those tests, so a
 * second start on it is refused as overloaded.
 */
import { defineAgent, defineNetwork } from '@handoff/core';

const model = { name: 'scripted', maxRetries: 0 };

const front = defineAgent({ name: 'Front', description: 'Answers', instructions: 'You are Front.', model });
const limited = defineAgent({ name: 'Limited', description: 'Never served', instructions: 'You are Limited.', model, maxWaiting: 1 });

export default defineNetwork({ name: 'edges', entry: 'Front', agents: [front, limited] });
