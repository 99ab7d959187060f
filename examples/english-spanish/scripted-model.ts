import { hasTool, lastUserText, systemIncludes, type ScriptRule } from '@handoff/testing';

/**
 * A scripted stand-in for the model, so the example runs offline: the English agent hands
 * Spanish questions to the Spanish agent, which answers in Spanish.
 */
export const englishSpanishRules: ScriptRule[] = [
  {
    name: 'EnglishAgent hands Spanish to SpanishAgent',
    when: (req) => systemIncludes('only respond in english')(req) && hasTool('transfer_to_SpanishAgent')(req) && /[¿¡ñáéíóú]|cuanto|hola/i.test(lastUserText(req) ?? ''),
    reply: { toolCalls: [{ name: 'transfer_to_SpanishAgent', arguments: { reason: 'The user writes in Spanish.' } }] },
  },
  {
    name: 'EnglishAgent answers',
    when: systemIncludes('only respond in english'),
    reply: (req) => ({ content: `You asked: "${lastUserText(req) ?? ''}". Here is my answer in English.` }),
  },
  {
    name: 'SpanishAgent answers',
    when: systemIncludes('only respond in spanish'),
    reply: (req) => ({ content: /2\s*\+\s*2/.test(lastUserText(req) ?? '') ? '2 + 2 son 4.' : 'Con gusto te ayudo en español.' }),
  },
];
