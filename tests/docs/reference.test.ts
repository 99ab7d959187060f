import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODE_INFO, RuntimeEvent } from '@handoff/core';
import { REPO_ROOT } from '../support/processes.js';

/** docs/reference.md is generated from the schemas (scripts/generate-reference.mjs): the committed one must be what they say now. */
describe('docs/reference.md', () => {
  it('is what scripts/generate-reference.mjs generates from the built schemas (run pnpm docs:reference when this fails)', () => {
    const check = spawnSync(process.execPath, ['scripts/generate-reference.mjs', '--check'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('lists every event type and every error code', () => {
    const reference = readFileSync(`${REPO_ROOT}docs/reference.md`, 'utf8');
    for (const schema of RuntimeEvent.options) expect(reference).toContain(`### \`${schema.shape.type.value}\``);
    for (const code of Object.keys(ERROR_CODE_INFO)) expect(reference).toMatch(new RegExp(`^\\| \`${code}\` \\| \\d{3} \\|`, 'm'));
    expect(reference).toMatch(/\| `limits\.maxPingPong` \| `integer` \| `6` \|/);
    expect(reference).toMatch(/\| `model\.maxRetries` \| `integer` \| `3` \|/);
  });
});
