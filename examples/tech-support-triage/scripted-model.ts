import { hasTool, lastUserText, systemIncludes, type ScriptRule } from '@handoff/testing';

const said = (pattern: RegExp) => (req: Parameters<typeof lastUserText>[0]) => pattern.test(lastUserText(req) ?? '');

/** A scripted stand-in for the model, so the triage example runs offline. */
export const triageRules: ScriptRule[] = [
  { name: 'triage: technical', when: (req) => hasTool('transfer_to_TechAgent')(req) && said(/laptop|phone|boot|crash|screen/i)(req), reply: { toolCalls: [{ name: 'transfer_to_TechAgent', arguments: { reason: 'A device problem.' } }] } },
  { name: 'triage: general', when: hasTool('transfer_to_GeneralSupport'), reply: { toolCalls: [{ name: 'transfer_to_GeneralSupport', arguments: { reason: 'Not technical.' } }] } },
  { name: 'general answers', when: systemIncludes('You answer general questions.'), reply: { content: 'Our office is open 9 to 5.' } },
  { name: 'tech: computer', when: (req) => hasTool('transfer_to_ComputerSpecialist')(req) && said(/laptop|desktop|computer|boot/i)(req), reply: { toolCalls: [{ name: 'transfer_to_ComputerSpecialist', arguments: { reason: 'It is a computer.' } }] } },
  { name: 'tech: phone', when: (req) => hasTool('transfer_to_SmartphoneSpecialist')(req) && said(/phone/i)(req), reply: { toolCalls: [{ name: 'transfer_to_SmartphoneSpecialist', arguments: { reason: 'It is a phone.' } }] } },
  { name: 'tech asks', when: systemIncludes('You are the tech agent.'), reply: { content: 'Which device is it?' } },
  {
    name: 'specialist: the fix did not work',
    when: (req) => hasTool('check_repeat_issue')(req) && said(/did not work|didn't work|still/i)(req) && !req.body.messages.some((m) => m.role === 'tool'),
    reply: (req) => ({ toolCalls: [{ name: 'check_repeat_issue', arguments: { summary: lastUserText(req) ?? '' } }] }),
  },
  { name: 'specialist answers', when: systemIncludes('specialist. Give one concrete fix.'), reply: { content: 'Hold the power button for 10 seconds, then start it again.' } },
  { name: 'advanced answers', when: systemIncludes('advanced troubleshooting specialist'), reply: { content: 'Let us check the BIOS boot order and run a disk check.' } },
];
