import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { LENIENT_TEST_HELPER_POLICY } from '../support/helper-policy.ts';
import { generateHpkeJwk, generateSigningJwk } from '../support/keys.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Fresh keys per run, passed as bindings: tests never depend on a developer's .dev.vars.
const MODEL_SIGNING_JWK = await generateSigningJwk('model-test');
const AUTH_SIGNING_JWK = await generateSigningJwk('auth-test');
const HPKE_PRIVATE_JWK = await generateHpkeJwk(1);

export default defineConfig({

  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}/wrangler.toml` },
      // The leader's entry plus the helper's Durable Object classes (tests/worker/entry.ts);
      // the helper's coordinator reads its policy vars from this same env: the lenient test policy.
      main: fileURLToPath(new URL('./entry.ts', import.meta.url)),
      miniflare: {
        // GRR_EPSILON: the estimator tests need reports that carry signal at a few thousand
        // devices (the bootstrap default, 0.05 for lifecycle and impressions, needs far more).
        bindings: { K_THRESHOLD: '5', GRR_EPSILON: '0.2,0.1,0.1', MODEL_SIGNING_JWK, AUTH_SIGNING_JWK, HPKE_PRIVATE_JWK, LEADER_TOKEN: 'test-leader-token', DEV_UNLIMITED_LOCAL: 'true', ...LENIENT_TEST_HELPER_POLICY },
        durableObjects: { HELPER_COORDINATOR: { className: 'HelperCoordinator', useSQLite: true }, HELPER_SHARD: { className: 'HelperShard', useSQLite: true } },
      },
    }),
  ],
  test: {
    name: 'worker',
    include: ['**/*.test.ts'], root: fileURLToPath(new URL('.', import.meta.url)),
  },
});
