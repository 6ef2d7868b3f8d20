import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * Size budgets (gzip -9) of what apps embed, and of the chunks the SDK loads only when
 * needed: model verification when a new model arrives, contributions only with consent
 * (secure rounds and counts: HPKE and the encoder; local-mode rounds: the encoder and the
 * exact discrete Gaussian sampler, no HPKE); `npm test` builds the bundles first.
 */
const BUDGETS = { 'edgeseg.min.js': 10 * 1024, 'verify.min.js': 3 * 1024, 'contribute.min.js': 12 * 1024, 'contribute-local.min.js': 7 * 1024 };

function built(file: string): Buffer {
  try {
    return readFileSync(new URL(`../dist/${file}`, import.meta.url));
  } catch {
    throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}

describe('bundle size budget', () => {
  for (const [file, budget] of Object.entries(BUDGETS)) {
    it(`${file} is at most ${budget} bytes gzipped`, () => {
      const source = built(file);
      const gz = gzipSync(source, { level: 9 }).byteLength;
      expect(gz).toBeLessThanOrEqual(budget);
      expect(source.toString('utf8')).not.toMatch(/\brequire\(/); // pure ESM, no CommonJS shims
    });
  }

  it('the local-mode chunk carries no HPKE code and the secure chunk no DP sampler', () => {
    const local = built('contribute-local.min.js').toString('utf8');
    const secure = built('contribute.min.js').toString('utf8');
    // WebCrypto is only ever reached by HPKE (the sampler draws through crypto.getRandomValues).
    expect(local).not.toMatch(/\bsubtle\b|importKey|deriveBits/);
    expect(secure).toMatch(/\bsubtle\b/);
    // The sampler's own error messages, which only the DP module carries.
    expect(local).toMatch(/discrete Gaussian: /);
    expect(secure).not.toMatch(/discrete Gaussian/);
  });
});
