import { defineConfig } from 'vitest/config';

/**
 * Four projects, one command (`npm test`):
 * - unit: pure logic beside its code, in Node;
 * - worker: routes → Durable Objects → SQLite on real workerd (@cloudflare/vitest-plugin);
 * - e2e: real Chromium against a real `wrangler dev` stack, one file at a time;
 * - e2e-rounds: the end-to-end files that run whole secure rounds on stacks of their own.
 *   A secure round is released only after its close time by the helper's clock, so these
 *   files spend most of their time waiting; `npm test` runs them one at a time in a
 *   second Vitest process beside the others (scripts/test-lanes.mjs) rather than after.
 */
const ROUND_FILES = ['tests/e2e/counts-and-local.test.ts', 'tests/e2e/secure-round.test.ts', 'tests/e2e/malicious-device.test.ts', 'tests/e2e/sdk-secure-outside.test.ts', 'tests/e2e/helper-outage.test.ts'];

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
          exclude: ROUND_FILES,
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-rounds',
          include: ROUND_FILES,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
