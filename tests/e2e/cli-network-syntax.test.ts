import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '@handoff/testing';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

async function runHandoff(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = await ManagedProcess.start({ name: 'handoff', command: process.execPath, args: [HANDOFF_BIN, ...args], cwd: REPO_ROOT, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  const exit = await child.exited;
  return { code: exit.code, output: child.lines.join('\n') };
}

/** A network module that does not parse is named, with the line, instead of a bare SyntaxError and Node's stack. */
describe('handoff with a network module that has a syntax error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-syntax-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const write = (name: string, source: string) => {
    writeFileSync(join(dir, name), source);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file and line of a JavaScript module cut short, and quotes nothing from Node internals', async () => {
    const file = write('cut.js', "import { defineNetwork } from '@handoff/core';\nexport default defineNetwork({\n  name: 'cut',\n");
    const { code, output } = await runHandoff(['worker', '--network', file]);
    expect(code).toBe(2);
    expect(output).toContain(`handoff: INVALID_DEFINITION: --network: syntax error at ${file}:4: Unexpected end of input`);
    expect(output).not.toMatch(/node:internal|at compileSourceTextModule/);
  });

  it('names the line and quotes it for an error in the middle of a module', async () => {
    const file = write('middle.mjs', "const a = 1;\nconst b = ;\nexport default a;\n");
    const { code, output } = await runHandoff(['gateway', '--network', file]);
    expect(code).toBe(2);
    expect(output).toContain(`syntax error at ${file}:2: Unexpected token ';'\n    const b = ;`);
  });

  it('names the file, line and column of a TypeScript module', async () => {
    const file = write('typed.ts', "import { defineNetwork } from '@handoff/core';\nconst limit: number = ;\nexport default defineNetwork({ name: 'typed', agents: [] });\n");
    const { code, output } = await runHandoff(['worker', '--network', file]);
    expect(code).toBe(2);
    expect(output).toContain(`handoff: INVALID_DEFINITION: --network: syntax error at ${file}:2:23: Unexpected ";"`);
    expect(output).not.toMatch(/esbuild\/lib\/main\.js/);
  });

  it('says that a module the network imports has the error when the network file itself parses', async () => {
    write('helper.js', 'export const broken = {;\n');
    const file = write('imports.js', "import { broken } from './helper.js';\nexport default broken;\n");
    const { code, output } = await runHandoff(['worker', '--network', file]);
    expect(code).toBe(2);
    expect(output).toContain(`--network: ${file} or a module it imports has a syntax error: Unexpected token ';'`);
  });
});
