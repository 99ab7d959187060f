import { lastUserText, systemIncludes, type RecordedRequest, type ScriptRule, type ScriptedReply } from '@handoff/testing';

/** The network module of the no-stall tests and the soak (see its header). */
export const NO_STALL_NETWORK = 'tests/faults/networks/no-stall.ts';

/** The last message of a request is a tool result (the turn goes on after a tool ran). */
const afterTool = (req: RecordedRequest) => req.body.messages.at(-1)?.role === 'tool';

/**
 * The scripted model of the no-stall network; what an agent does depends on the user's text:
 * Front refunds ("refund"), hands off ("primary", "clerk"), starts a nested chat ("nest") or
 * answers — slowly for "cancel-me"; Clerk repeats what it heard (slowly for a tab's answer, so two
 * tabs race on one question); Primary and Backup answer; Helper asks "What size?" until told "done",
 * and takes 30 s for "slow". Every answer quotes the user, so no two entries of a history are alike.
 * `latencyMs` is added to every answer.
 */
export function NO_STALL_RULES(latencyMs = 0): ScriptRule[] {
  const slow = (reply: ScriptedReply): ScriptedReply => (latencyMs > 0 ? { ...reply, delayMs: (reply.delayMs ?? 0) + latencyMs } : reply);
  return [
    {
      name: 'Front',
      when: systemIncludes('You are Front.'),
      reply: (req) => {
        const text = lastUserText(req) ?? '';
        if (afterTool(req)) return slow({ content: 'Refund done.' });
        if (text.startsWith('Result of the nested chat')) return slow({ content: `Front sums up: ${text}` });
        if (text.startsWith('cancel-me')) return slow({ content: 'a slow answer', delayMs: 3_000 });
        if (text.includes('nest')) return slow({ toolCalls: [{ name: 'ask_helper', arguments: { reason: 'the helper knows' } }] });
        if (text.includes('refund')) return slow({ toolCalls: [{ name: 'refund', arguments: { amount: 5 } }] });
        if (text.includes('primary')) return slow({ toolCalls: [{ name: 'transfer_to_Primary', arguments: { reason: 'for Primary' } }] });
        if (text.includes('clerk')) return slow({ toolCalls: [{ name: 'transfer_to_Clerk', arguments: { reason: 'for Clerk' } }] });
        return slow({ content: `Front answers: ${text}` });
      },
    },
    { name: 'Primary', when: systemIncludes('You are Primary.'), reply: (req) => slow({ content: `Primary answers: ${lastUserText(req) ?? ''}` }) },
    { name: 'Backup', when: systemIncludes('You are Backup.'), reply: (req) => slow({ content: `Backup answers: ${lastUserText(req) ?? ''}` }) },
    {
      name: 'Clerk',
      when: systemIncludes('You are Clerk.'),
      reply: (req) => {
        const text = lastUserText(req) ?? '';
        return slow({ content: `Clerk heard: ${text}`, ...(text.startsWith('answer from tab') ? { delayMs: 1_500 } : {}) });
      },
    },
    {
      name: 'Helper',
      when: systemIncludes('You are Helper.'),
      reply: (req) => {
        const text = lastUserText(req) ?? '';
        if (text === 'done') return slow({ content: 'Helper finished.', toolCalls: [{ name: 'finish', arguments: { reason: 'finished' } }] });
        if (text.includes('slow')) return slow({ content: 'Helper took long.', delayMs: 30_000 });
        return slow({ content: `What size? (you said: ${text})` });
      },
    },
  ];
}
