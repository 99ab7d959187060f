import { hasTool, lastUserText, systemIncludes, type ScriptRule } from '@handoff/testing';

/** Keyword routing the scripted router applies, as a real model would by meaning. */
const ROUTES: { agent: string; pattern: RegExp; reason: string }[] = [
  { agent: 'Billing', pattern: /invoice|refund|bill|charge|payment|credit/i, reason: 'The customer has a billing question.' },
  { agent: 'Sales', pattern: /price|pricing|buy|plan|quote|upgrade|discount/i, reason: 'The customer asks about pricing or buying.' },
  { agent: 'TechSupport', pattern: /error|crash|install|bug|slow|broken|login/i, reason: 'The customer has a technical problem.' },
];

/**
 * A scripted stand-in for the model, so the customer-service demo runs offline: the router
 * hands off by keywords, and each specialist answers in its role.
 */
export const customerServiceRules: ScriptRule[] = [
  ...ROUTES.map(
    (route): ScriptRule => ({
      name: `CustomerService routes to ${route.agent}`,
      when: (req) => hasTool(`transfer_to_${route.agent}`)(req) && route.pattern.test(lastUserText(req) ?? ''),
      reply: { toolCalls: [{ name: `transfer_to_${route.agent}`, arguments: { reason: route.reason } }] },
    }),
  ),
  {
    name: 'CustomerService answers directly',
    when: systemIncludes('primary customer service agent'),
    reply: { content: 'Happy to help! Our support desk is open around the clock; tell me more about what you need.' },
  },
  {
    name: 'Billing answers',
    when: systemIncludes('billing specialist'),
    reply: (req) => ({ content: `Billing here. I checked your account about "${lastUserText(req) ?? ''}": a refund of the duplicate charge is on its way (3-5 business days).` }),
  },
  {
    name: 'Sales answers',
    when: systemIncludes('sales representative'),
    reply: { content: 'Sales here. The Team plan is $20 per seat per month, with a 15% discount on yearly billing.' },
  },
  {
    name: 'TechSupport answers',
    when: systemIncludes('technical support specialist'),
    reply: { content: 'Tech support here. Clear the app cache, update to the latest version, and restart; that fixes this crash in most cases.' },
  },
];
