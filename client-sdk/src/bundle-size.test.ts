import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * Size budgets (gzip -9) of what apps embed, and of the chunks the SDK loads only when
 * needed: model verification when a new model arrives, contributions only with consent;
 * `npm test` builds the bundles first.
 */
const BUDGETS = { 'edgeseg.min.js': 10 * 1024, 'verify.min.js': 3 * 1024, 'contribute.min.js': 12 * 1024 };

describe('bundle size budget', () => {
  for (const [file, budget] of Object.entries(BUDGETS)) {
    it(`${file} is at most ${budget} bytes gzipped`, () => {
      let source: Buffer;
      try {
        source = readFileSync(new URL(`../dist/${file}`, import.meta.url));
      } catch {
        throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\` (npm test does it first)`);
      }
      const gz = gzipSync(source, { level: 9 }).byteLength;
      expect(gz).toBeLessThanOrEqual(budget);
      expect(source.toString('utf8')).not.toMatch(/\brequire\(/); // pure ESM, no CommonJS shims
    });
  }
});
