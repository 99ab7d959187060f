import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HandoffClient } from '@handoff/client';
import type { ConversationResult, StoredEvent } from '@handoff/core';
import { ManagedProcess, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { triageRules } from '@handoff/examples/dist/tech-support-triage/scripted-model.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { REPO_ROOT, startHandoff } from '../support/processes.js';

/**
 * AG2's tech-support triage as separate processes: LLM conditions route the first message, the
 * specialist answers and hands back to the user; the user's reply — sent from yet another process —
 * says the fix did not work, a tool sets `repeat_issue`, and a context condition sends the
 * conversation to advanced troubleshooting without a model call.
 */
describe('tech-support triage across processes', () => {
  const prefix = uniquePrefix('triage');
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];
  let client: HandoffClient;

  beforeAll(async () => {
    model = await startScriptedModel({ rules: triageRules });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const network = 'examples/dist/tech-support-triage/network.js';
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', network], env),
      startHandoff('routing worker', ['worker', '--network', network, '--agents', 'Triage,TechAgent,GeneralSupport'], env),
      startHandoff('specialist worker', ['worker', '--network', network, '--agents', 'ComputerSpecialist,SmartphoneSpecialist,AdvancedTroubleshooting'], env),
    ]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
  });

  it('escalates a repeat issue by context condition, with the reply sent from another process', async () => {
    const conversation = await client.start({ agent: 'Triage', input: "My laptop won't boot", context: { repeat_issue: false } });
    const first = await conversation.result({ timeoutMs: 20_000 });
    expect(first).toMatchObject({
      status: 'awaiting_user',
      agent: 'ComputerSpecialist',
      output: 'Hold the power button for 10 seconds, then start it again.',
      path: ['Triage', 'TechAgent', 'ComputerSpecialist'],
      waiting: { kind: 'user', mode: 'revert', agent: 'ComputerSpecialist' },
    });

    const sender = await ManagedProcess.start({
      name: 'sender',
      command: process.execPath,
      args: ['tests/e2e/fixtures/send-message.mjs', redisUrl(), prefix, conversation.id, 'That did not work, it still does not boot.'],
      cwd: REPO_ROOT,
    });
    expect((await sender.exited).code).toBe(0);
    const printed = JSON.parse(sender.lines.at(-1)!) as { pid: number; result: ConversationResult };
    expect(printed.pid).not.toBe(process.pid);
    expect(printed.result).toMatchObject({
      status: 'awaiting_user',
      agent: 'AdvancedTroubleshooting',
      output: 'Let us check the BIOS boot order and run a disk check.',
      path: ['Triage', 'TechAgent', 'ComputerSpecialist', 'ComputerSpecialist', 'ComputerSpecialist', 'AdvancedTroubleshooting'],
      context: { repeat_issue: true, issue_count: 1 },
    });

    const events: StoredEvent[] = [];
    for await (const event of conversation.events({ timeoutMs: 10_000 })) {
      events.push(event);
      if (event.type === 'awaiting.user' && events.filter((e) => e.type === 'awaiting.user').length === 2) break;
    }
    const escalation = events.find((e) => e.type === 'handoff' && e.to === 'AdvancedTroubleshooting');
    expect(escalation).toMatchObject({ from: 'ComputerSpecialist', source: 'context_condition', reason: 'context condition: ${repeat_issue}' });
    expect(events.some((e) => e.type === 'context.updated' && e.agent === 'ComputerSpecialist')).toBe(true);
    // The specialist called the model twice (its fix, then the tool call); the escalation turn called it not at all.
    expect(model.requests.filter(systemIncludes('computer specialist')).length).toBe(2);
    // The specialist's instructions were rendered from the context each turn.
    expect(model.requests.filter(systemIncludes('reported this issue 0 time(s)')).length).toBe(2);
  }, 60_000);
});
