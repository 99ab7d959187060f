import { describe, expect, it } from 'vitest';
import { ManagedProcess } from '@handoff/testing';
import { redisUrl } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

async function runHandoff(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = await ManagedProcess.start({ name: 'handoff', command: process.execPath, args: [HANDOFF_BIN, ...args], cwd: REPO_ROOT, env: { REDIS_URL: redisUrl() } });
  const exit = await child.exited;
  return { code: exit.code, output: child.lines.join('\n') };
}

/** The command line refuses bad configuration with an error that says what to fix. */
describe('handoff command errors', () => {
  it('names a network module that does not exist', async () => {
    const { code, output } = await runHandoff(['worker', '--network', 'nope/network.ts']);
    expect(code).toBe(2);
    expect(output).toMatch(/handoff: INVALID_DEFINITION: --network: no file at .*nope\/network\.ts/);
  });

  it('names an agent the network does not have', async () => {
    const { code, output } = await runHandoff(['worker', '--network', 'examples/dist/english-spanish/network.js', '--agents', 'EnglishAgent,FrenchAgent']);
    expect(code).toBe(2);
    expect(output).toMatch(/handoff: UNKNOWN_AGENT: --agents: unknown agent "FrenchAgent". The network has: EnglishAgent, SpanishAgent\./);
  });

  it('names a bad flag value', async () => {
    const { code, output } = await runHandoff(['gateway', '--network', 'examples/dist/english-spanish/network.js', '--concurrency', 'lots']);
    expect(code).toBe(2);
    expect(output).toMatch(/--concurrency: Invalid input: expected number/);
  });

  it('refuses a module whose default export is not a network', async () => {
    const { code, output } = await runHandoff(['gateway', '--network', 'examples/dist/english-spanish/scripted-model.js']);
    expect(code).toBe(2);
    expect(output).toMatch(/must have a default export made with defineNetwork/);
  });
});
