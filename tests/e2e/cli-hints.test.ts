import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { ManagedProcess } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

/** Runs the built `handoff` command to its end; its exit code and output. */
async function runHandoff(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; output: string }> {
  const child = await ManagedProcess.start({ name: 'handoff', command: process.execPath, args: [HANDOFF_BIN, ...args], cwd: REPO_ROOT, env });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exit = await child.exited;
  clearTimeout(killer);
  return { code: exit.code, output: child.lines.join('\n') };
}

/** Mistakes a new user makes, each answered with what to do instead. */
describe('handoff names the fix', () => {
  it('a directory as --network: names the module files in it, no ERR_UNSUPPORTED_DIR_IMPORT stack', async () => {
    const { code, output } = await runHandoff(['worker', '--network', 'examples/english-spanish']);
    expect(code).toBe(2);
    expect(output).toBe('handoff: INVALID_DEFINITION: --network: examples/english-spanish is a directory, not a module. Give the module file: --network ./examples/english-spanish/network.ts.');
  });

  it('a network whose tool uses a zod 3 schema: INVALID_DEFINITION saying to use zod 4, not a crash reading "def"', async () => {
    const { code, output } = await runHandoff(['worker', '--network', 'tests/e2e/fixtures/zod3-tool-network.mjs']);
    expect(code).toBe(2);
    expect(output).toContain('handoff: INVALID_DEFINITION: Tool "look_up": parameters is a zod 3 schema; Handoff needs zod 4 (its peer dependency, ^4.1.0).');
    expect(output).not.toContain("reading 'def'");
  });

  it('a worker without OPENAI_API_KEY whose agents call OpenAI warns at start, naming the variable', async () => {
    const worker = await ManagedProcess.start({
      name: 'worker',
      command: process.execPath,
      args: [HANDOFF_BIN, 'worker', '--network', 'examples/dist/english-spanish/network.js'],
      cwd: REPO_ROOT,
      env: { REDIS_URL: redisUrl(), HANDOFF_PREFIX: uniquePrefix('no-key'), LOG_LEVEL: 'info', OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined },
      readyPattern: /"msg":"ready"/,
      readyTimeoutMs: 30_000,
    });
    try {
      const line = JSON.parse(worker.lines.find((l) => l.includes('OPENAI_API_KEY is not set'))!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 40, variable: 'OPENAI_API_KEY', baseURL: 'https://api.openai.com/v1', agents: ['EnglishAgent', 'SpanishAgent'] });
    } finally {
      await worker.stop();
    }
  });

  it('a worker whose endpoint is not OpenAI does not warn about the key', async () => {
    const worker = await ManagedProcess.start({
      name: 'worker',
      command: process.execPath,
      args: [HANDOFF_BIN, 'worker', '--network', 'examples/dist/english-spanish/network.js'],
      cwd: REPO_ROOT,
      env: { REDIS_URL: redisUrl(), HANDOFF_PREFIX: uniquePrefix('local-model'), LOG_LEVEL: 'info', OPENAI_API_KEY: undefined, OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' },
      readyPattern: /"msg":"ready"/,
      readyTimeoutMs: 30_000,
    });
    try {
      expect(worker.lines.join('\n')).not.toContain('OPENAI_API_KEY');
    } finally {
      await worker.stop();
    }
  });

  it('handoff model --rules serves the rules to the openai client, and names what is wrong in a bad rules file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-model-'));
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ rules: [{ when: { lastUserIncludes: 'refund' }, reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: { reason: 'money' } }] } }, { reply: { content: 'Hello there.' } }] }));
    const model = await ManagedProcess.start({ name: 'model', command: process.execPath, args: [HANDOFF_BIN, 'model', '--rules', rules, '--port', '0'], cwd: REPO_ROOT, readyPattern: /^OPENAI_BASE_URL=/ });
    try {
      const baseURL = (await model.waitForLine(/^OPENAI_BASE_URL=/, 1_000, { includePast: true })).slice('OPENAI_BASE_URL='.length);
      const openai = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0 });
      const hello = await openai.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'hi' }] });
      expect(hello.choices[0]?.message.content).toBe('Hello there.');
      const refund = await openai.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'I want a refund' }] });
      expect(refund.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'transfer_to_Billing', arguments: '{"reason":"money"}' } });
    } finally {
      await model.stop();
    }

    writeFileSync(rules, JSON.stringify({ rules: [{ when: { userSays: 'x' }, reply: { content: 1 } }] }));
    const { code, output } = await runHandoff(['model', '--rules', rules, '--port', '0']);
    expect(code).toBe(2);
    expect(output).toMatch(/^handoff: INVALID_DEFINITION: --rules .*rules\.json: /);
    expect(output).toContain('userSays');
    expect(output).toContain('rules.0.reply.content');
  });
});
