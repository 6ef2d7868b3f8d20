import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/** Budget (gzip -9) of `<edgeseg-preferences>`; `npm test` builds the bundles first. */
const BUDGET = 8 * 1024;

describe('preferences.min.js', () => {
  let source: string;
  try {
    source = readFileSync(new URL('../../dist/preferences.min.js', import.meta.url), 'utf8');
  } catch {
    source = '';
  }

  it(`is at most ${BUDGET} bytes gzipped`, () => {
    expect(source, 'client-sdk/dist/preferences.min.js is missing: run `npm run build` (npm test does it first)').not.toBe('');
    expect(gzipSync(source, { level: 9 }).byteLength).toBeLessThanOrEqual(BUDGET);
  });

  it('is pure ESM and bundles none of the core SDK (the host hands it a segmenter)', () => {
    expect(source).toContain('customElements');
    expect(source).not.toMatch(/\brequire\(/);
    // The core's storage, transport and model verification: none of them belongs here.
    for (const core of ['indexedDB', 'crypto.subtle', 'fetch(', 'BroadcastChannel', '/v1/']) expect(source, core).not.toContain(core);
  });
});
