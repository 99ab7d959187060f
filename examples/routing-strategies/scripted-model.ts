import { hasTool, lastUserText, systemText, type ScriptRule } from '@handoff/testing';

const asks = (pattern: RegExp) => (req: Parameters<typeof lastUserText>[0]) => pattern.test(lastUserText(req) ?? '');

/**
 * A scripted stand-in for the model: the front desk routes by keywords; Primary's endpoint is
 * broken (HTTP 500), so its fallback answers; every other agent answers with its name.
 */
export const routingRules: ScriptRule[] = [
  { when: (req) => hasTool('transfer_to_writers')(req) && asks(/write|draft|email/i)(req), reply: { toolCalls: [{ name: 'transfer_to_writers', arguments: { reason: 'A writing task.' } }] } },
  { when: (req) => hasTool('transfer_to_analysts')(req) && asks(/analy|report|data/i)(req), reply: { toolCalls: [{ name: 'transfer_to_analysts', arguments: { reason: 'An analysis.' } }] } },
  { when: (req) => hasTool('transfer_to_specialists')(req) && asks(/code|programming|design|ui|database|sql|technical/i)(req), reply: { toolCalls: [{ name: 'transfer_to_specialists', arguments: { reason: 'A technical question.' } }] } },
  { when: hasTool('transfer_to_Primary'), reply: { toolCalls: [{ name: 'transfer_to_Primary', arguments: { reason: 'A general question.' } }] } },
  { when: (req) => (systemText(req) ?? '').startsWith('You are Primary.'), reply: { error: { status: 500, message: 'Primary model is down' } } },
  { reply: (req) => ({ content: `${/You are (\w+)\./.exec(systemText(req) ?? '')?.[1] ?? 'someone'} answered: ${lastUserText(req) ?? ''}` }) },
];
