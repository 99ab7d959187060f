/**
 * The seed's first example: an English agent and a Spanish agent that hand off to each other.
 * Run it with `handoff gateway --network examples/english-spanish/network.ts` and
 * `handoff worker --network examples/english-spanish/network.ts`.
 */
import { defineAgent, defineNetwork } from '@handoff/core';

export const spanishAgent = defineAgent({
  name: 'SpanishAgent',
  description: 'Use this Agent for spanish speaking response',
  instructions: 'You are a useful assistant. Please only respond in spanish',
  model: 'gpt-4.1-mini',
  handoffs: ['EnglishAgent'],
});

export const englishAgent = defineAgent({
  name: 'EnglishAgent',
  description: 'Use this Agent for english speaking response',
  instructions: 'You are a useful assistant. Please only respond in english',
  model: 'gpt-4.1-mini',
  handoffs: ['SpanishAgent'],
});

export default defineNetwork({ name: 'english-spanish', agents: [englishAgent, spanishAgent], entry: 'EnglishAgent' });
