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

  it('names bad archive flags without printing the password of the archive URL', async () => {
    const { code, output } = await runHandoff(['gateway', '--network', 'examples/dist/english-spanish/network.js', '--archive-url', 'mysql://handoff:hunter2@db/handoff', '--archive-keep', '0', '--archive-table', 'Robert"); DROP TABLE x']);
    expect(code).toBe(2);
    expect(output).toMatch(/--archive-url: must start with postgres:\/\/ or postgresql:\/\//);
    expect(output).toMatch(/--archive-keep: /);
    expect(output).toMatch(/--archive-table: must be "name" or "schema\.name"/);
    expect(output).not.toContain('hunter2');
  });

  it('logs the archive it uses with the password redacted', async () => {
    const child = await ManagedProcess.start({
      name: 'handoff gateway',
      command: process.execPath,
      args: [HANDOFF_BIN, 'gateway', '--network', 'examples/dist/english-spanish/network.js', '--prefix', `t-archive-log-${process.pid}`],
      cwd: REPO_ROOT,
      env: { REDIS_URL: redisUrl(), HANDOFF_ARCHIVE_URL: 'postgres://handoff:hunter2@127.0.0.1:1/handoff', HANDOFF_ARCHIVE_KEEP_SECONDS: '120', LOG_LEVEL: 'info' },
    });
    try {
      const line = await child.waitForLine(/archive enabled/);
      expect(line).toContain('postgres://handoff:[redacted]@127.0.0.1:1/handoff');
      await child.waitForLine(/"ready"|ready/);
      expect(child.lines.join('\n')).not.toContain('hunter2');
    } finally {
      await child.stop();
    }
  });

  it('refuses a module whose default export is not a network', async () => {
    const { code, output } = await runHandoff(['gateway', '--network', 'examples/dist/english-spanish/scripted-model.js']);
    expect(code).toBe(2);
    expect(output).toMatch(/must have a default export made with defineNetwork/);
  });
});
