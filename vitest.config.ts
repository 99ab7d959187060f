import { defineConfig } from 'vitest/config';

/**
 * One vitest run covers package unit tests and the cross-package integration tests.
 * Tests import the packages' built `dist/` (the `test` script builds first), exactly as users and
 * the child processes of the end-to-end tests do.
 */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
