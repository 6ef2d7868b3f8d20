import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticClosure } from '../testing/bundle-graph.ts';

/**
 * The consent-platform connector is an optional entry (`cmp.min.js`): the core carries
 * none of it, and it carries none of the core's storage, transport or crypto (it only
 * calls `segmenter.consent.set`). `npm test` builds the bundles first.
 */
const BUDGET = 3 * 1024;

function built(file: string): string {
  try {
    return readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');
  } catch {
    throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}

describe('cmp.min.js', () => {
  it('is not in the core: no file the core loads mentions the IAB APIs', () => {
    for (const file of staticClosure('edgeseg.min.js', built)) {
      expect(built(file), file).not.toContain('__tcfapi');
      expect(built(file), file).not.toContain('__gpp');
    }
  });

  it(`adds at most ${BUDGET} bytes gzipped to a page running the core, and none of the core's storage, transport or crypto`, () => {
    const core = staticClosure('edgeseg.min.js', built);
    const added = staticClosure('cmp.min.js', built).filter((f) => !core.includes(f));
    expect(added[0]).toBe('cmp.min.js');
    expect(added.reduce((sum, f) => sum + gzipSync(built(f), { level: 9 }).byteLength, 0), added.join(' + ')).toBeLessThanOrEqual(BUDGET);
    const source = staticClosure('cmp.min.js', built).map(built).join('\n');
    expect(source).toContain('__tcfapi');
    for (const core of ['indexedDB', 'crypto.subtle', 'fetch(', 'BroadcastChannel', '/v1/']) expect(source, core).not.toContain(core);
  });
});
