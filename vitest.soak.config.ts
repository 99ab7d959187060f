import { defineConfig } from 'vitest/config';

/**
 * `pnpm soak`: the randomized crash-point run (tests/soak), for as long as `SOAK_SECONDS` says
 * (default 60). Not part of `pnpm test`.
 */
export default defineConfig({
  test: {
    include: ['tests/soak/**/*.soak.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
