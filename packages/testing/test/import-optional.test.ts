import { describe, expect, it } from 'vitest';
import { ProviderUnavailableError } from '../dist/index.js';
import { importOptional } from '../dist/redis/import-optional.js';

/** testcontainers is an optional peer: when it is not installed, its providers are skipped with what to install. */
describe('importOptional', () => {
  it('turns a missing package into ProviderUnavailableError naming what to install', async () => {
    // @ts-expect-error -- a package that does not exist
    const error = await importOptional(() => import('handoff-no-such-package'), 'testcontainers').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe('testcontainers is not installed (npm install --save-dev testcontainers)');
  });

  it('returns the module when it is installed, and rethrows other errors', async () => {
    expect(typeof (await importOptional(() => import('node:net'), 'x')).createServer).toBe('function');
    await expect(importOptional(() => Promise.reject(new Error('boom')), 'x')).rejects.toThrow('boom');
  });
});
