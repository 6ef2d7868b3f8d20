import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticClosure } from './testing/bundle-graph.ts';

/**
 * Size budgets (gzip -9) of what apps load. Each entry is built self-contained
 * (scripts/build-sdk.mjs says why), but a budget still counts an entry with any file it
 * imports statically, so a build that starts sharing chunks is measured honestly. The
 * core (≤ 10 KB: the budget) counts all of it; a chunk the core loads with
 * import() only when needed (model verification when a new model arrives, release and
 * sending with a sending purpose, export/erase, contributions with consent) counts what
 * it adds to a page that already runs the core; the snippet loader likewise. `npm test`
 * builds the bundles first.
 */
const CORE = 'edgeseg.min.js';
const CORE_BUDGET = 10 * 1024;
const LAZY_BUDGETS = {
  'verify.min.js': 3 * 1024,
  // The budget for the secure contribution chunk: HPKE (about 12 KB) plus
  // @divviup/prio3 with its Field128 arithmetic, TurboSHAKE XOF and FLP circuits
  // (Histogram, SumVec), and the npm `buffer` polyfill it imports (about 19 KB together).
  'contribute.min.js': 32 * 1024,
  'contribute-local.min.js': 7 * 1024,
  'release.min.js': 6 * 1024,
  // Export and erase; 2.5 KB since the export states the 365-day total, composed under zCDP (shared/dp's zcdpToEpsilon, about 400 B).
  'data.min.js': 2.5 * 1024,
  'queue.min.js': 1024,
};

function built(file: string): string {
  try {
    return readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
  } catch {
    throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}
const gzipped = (files: readonly string[]): number => files.reduce((sum, f) => sum + gzipSync(built(f), { level: 9 }).byteLength, 0);

describe('bundle size budget', () => {
  const core = staticClosure(CORE, built);

  it(`${CORE} with the shared chunks it imports is at most ${CORE_BUDGET} bytes gzipped`, () => {
    expect(gzipped(core), core.join(' + ')).toBeLessThanOrEqual(CORE_BUDGET);
  });

  for (const [file, budget] of Object.entries(LAZY_BUDGETS)) {
    it(`${file} adds at most ${budget} bytes gzipped to a page running the core`, () => {
      const added = staticClosure(file, built).filter((f) => !core.includes(f));
      expect(added[0]).toBe(file);
      expect(gzipped(added), added.join(' + ')).toBeLessThanOrEqual(budget);
    });
  }

  it('every built file is pure ESM (no CommonJS shims)', () => {
    for (const file of new Set([...core, ...Object.keys(LAZY_BUDGETS).flatMap((f) => staticClosure(f, built))])) expect(built(file), file).not.toMatch(/\brequire\(/);
  });

  it('the local-mode chunk carries no HPKE code and the secure chunk no DP sampler', () => {
    const local = staticClosure('contribute-local.min.js', built).map(built).join('\n');
    const secure = staticClosure('contribute.min.js', built).map(built).join('\n');
    // WebCrypto is only ever reached by HPKE (the sampler draws through crypto.getRandomValues).
    expect(local).not.toMatch(/\bsubtle\b|importKey|deriveBits/);
    expect(secure).toMatch(/\bsubtle\b/);
    // The sampler's own error messages, which only the DP module carries.
    expect(local).toMatch(/discrete Gaussian: /);
    expect(secure).not.toMatch(/discrete Gaussian/);
  });

  it('the core and its release chunk load their chunks by relative URL, next to their own (the versioned /sdk/<version>/ folder)', () => {
    const text = core.map(built).join('\n');
    for (const chunk of ['verify', 'release', 'data']) expect(text).toContain(`import("./${chunk}.min.js")`);
    // Contributions are decided by release scheduling, so their chunks are loaded from the release chunk.
    for (const chunk of ['contribute', 'contribute-local']) expect(built('release.min.js')).toContain(`import("./${chunk}.min.js")`);
  });
});
