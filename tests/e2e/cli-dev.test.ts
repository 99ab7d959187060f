import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, startScriptedModel, systemText, type ScriptedModel } from '@handoff/testing';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

/** A network module as a user writes it: typed context, async instructions; `version` and `extra` change between saves. */
const networkSource = (version: string, extra = false) => `import { z } from 'zod';
import { defineAgent, defineNetwork } from '@handoff/core';
${extra ? "import { extraInstructions } from './extra.ts';" : ''}
const Context = z.object({ user: z.string() });
export default defineNetwork({
  name: 'dev-net',
  context: Context,
  agents: [
    defineAgent({ name: 'Answer', context: Context, instructions: async ({ context }) => \`You are Answer. Version ${version} for \${context.user}.\` }),
    ${extra ? "defineAgent({ name: 'Extra', instructions: extraInstructions })," : ''}
  ],
});
`;

/** True when something accepts a TCP connection on the port. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Pids of running redis-server processes listening on the port (their title is `redis-server 127.0.0.1:<port>`). */
const redisServersOn = (port: number) =>
  readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`127.0.0.1:${port}`);
      } catch {
        return false;
      }
    });

/** `handoff dev` as a real child process: private Redis, gateway, workers, HTTP API, console, reload on save, Ctrl-C. */
describe('handoff dev', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-dev-'));
  const file = join(dir, 'network.ts');
  let model: ScriptedModel;
  let dev: ManagedProcess;
  let base: string;
  let redisPort: number;

  beforeAll(async () => {
    // The module imports @handoff/core and zod as an application would, from its own node_modules.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    mkdirSync(join(dir, 'node_modules', '@handoff'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'packages/core'), join(dir, 'node_modules/@handoff/core'));
    symlinkSync(join(REPO_ROOT, 'packages/core/node_modules/zod'), join(dir, 'node_modules/zod'));
    writeFileSync(file, networkSource('one'));
    model = await startScriptedModel({ rules: [{ name: 'echo the instructions', when: () => true, reply: (req) => ({ content: `model saw: ${systemText(req) ?? ''}` }) }] });
    dev = await ManagedProcess.start({
      name: 'handoff dev',
      command: process.execPath,
      args: [HANDOFF_BIN, 'dev', '--network', file, '--http-port', '0'],
      cwd: dir,
      // No REDIS_URL: dev starts its own redis-server.
      env: { REDIS_URL: undefined, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', LOG_LEVEL: 'warn' },
      readyPattern: /^\s+watching /,
      readyTimeoutMs: 60_000,
    });
    base = /console\s+(http:\/\/\S+)\/console\//.exec(dev.lines.join('\n'))![1]!;
    redisPort = Number(/redis\s+redis:\/\/127\.0\.0\.1:(\d+) \(private/.exec(dev.lines.join('\n'))![1]);
  }, 90_000);
  afterAll(async () => {
    if (dev?.running) dev.kill('SIGKILL');
    await model?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one conversation over the HTTP API and returns its result. */
  const converse = async (body: object) => {
    const started = await fetch(`${base}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { conversationId } = (await started.json()) as { conversationId: string };
    expect(started.status).toBe(201);
    const result = await fetch(`${base}/v1/conversations/${conversationId}/result?waitMs=15000`);
    return (await result.json()) as { status: string; output?: string; agent?: string };
  };

  it('prints the console URL and serves the console, the API and a conversation on the network, with its private Redis', async () => {
    expect(dev.lines.join('\n')).toMatch(/network "dev-net" — agents Answer/);
    expect(redisServersOn(redisPort).length).toBe(1);
    expect((await fetch(`${base}/console/`)).status).toBe(200);
    expect(await converse({ agent: 'Answer', input: 'hi', context: { user: 'ana' } })).toMatchObject({ status: 'completed', output: 'model saw: You are Answer. Version one for ana.' });
    // The context schema is checked at start.
    const refused = await fetch(`${base}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'Answer', input: 'hi', context: {} }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('INVALID_CONTEXT');
  });

  it('reloads the network when its file changes: new instructions, a new agent', async () => {
    const reloaded = dev.waitForLine(/reloaded network "dev-net" — agents Answer, Extra/, 30_000);
    writeFileSync(join(dir, 'extra.ts'), "export const extraInstructions = 'You are Extra.';\n");
    writeFileSync(file, networkSource('two', true));
    await reloaded;
    expect(await converse({ agent: 'Answer', input: 'again', context: { user: 'bo' } })).toMatchObject({ status: 'completed', output: 'model saw: You are Answer. Version two for bo.' });
    expect(await converse({ agent: 'Extra', input: 'hello extra', context: { user: 'cy' } })).toMatchObject({ status: 'completed', agent: 'Extra', output: 'model saw: You are Extra.' });
  });

  it('reloads when a module the network imports changes', async () => {
    const reloaded = dev.waitForLine(/reloaded network "dev-net"/, 30_000);
    writeFileSync(join(dir, 'extra.ts'), "export const extraInstructions = 'You are Extra. Edited.';\n");
    await reloaded;
    expect(await converse({ agent: 'Extra', input: 'edited?', context: { user: 'ed' } })).toMatchObject({ status: 'completed', output: 'model saw: You are Extra. Edited.' });
  });

  it('keeps the running network when the changed file does not load', async () => {
    const refused = dev.waitForLine(/did not load, the previous network keeps running/, 30_000);
    writeFileSync(file, "import { defineNetwork } from '@handoff/core';\nexport default defineNetwork({ name: 'dev-net', agents: [] });\n");
    await refused;
    expect(await converse({ agent: 'Extra', input: 'still there?', context: { user: 'di' } })).toMatchObject({ status: 'completed', agent: 'Extra' });
  });

  it('stops everything on Ctrl-C (SIGINT), its redis-server included', async () => {
    dev.kill('SIGINT');
    const exit = await dev.exited;
    expect(exit.code).toBe(0);
    expect(await accepts(redisPort)).toBe(false);
    expect(redisServersOn(redisPort)).toEqual([]);
  });
});
