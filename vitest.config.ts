import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a page or a process to reach a state; its default (1 s) is shorter than a
    // browser page's fetch on a loaded two-core CI machine (a Log tab once showed 0 rows after 1 s).
    // A poll still fails if the state is never reached.
    expect: { poll: { timeout: 10_000 } },
    // Tests that share the PostgreSQL server use their own schemas, so files may run in parallel.
    pool: 'forks',
  },
});

// Vitest loads the config through its default export; this is the one allowed default export.
// eslint-disable-next-line no-restricted-syntax
export default config;
