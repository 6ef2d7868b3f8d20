import { defineConfig } from 'vitest/config';

/**
 * Three projects, one command (`npm test`):
 * - unit: pure logic beside its code, in Node;
 * - worker: routes → Durable Objects → SQLite on real workerd (@cloudflare/vitest-plugin);
 * - e2e: real Chromium against a real `wrangler dev` stack.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{shared,client-sdk,aggregator,worker,sim}/src/**/*.test.ts', 'scripts/**/*.test.ts', 'worker/public/**/*.test.ts'],
          environment: 'node',
        },
      },
      './tests/worker/vitest.config.ts',
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
