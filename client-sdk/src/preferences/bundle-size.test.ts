import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticClosure } from '../testing/bundle-graph.ts';

/**
 * Budget (gzip -9) of `<edgeseg-preferences>` with the shared chunks it imports (each
 * fetched and compressed on its own); `npm test` builds the bundles first.
 */
const BUDGET = 8 * 1024;

function built(file: string): string {
  try {
    return readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');
  } catch {
    throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}

describe('preferences.min.js', () => {
  const files = staticClosure('preferences.min.js', built);

  it(`with its shared chunks is at most ${BUDGET} bytes gzipped`, () => {
    const gz = files.reduce((sum, f) => sum + gzipSync(built(f), { level: 9 }).byteLength, 0);
    expect(gz, files.join(' + ')).toBeLessThanOrEqual(BUDGET);
  });

  it('is pure ESM and bundles none of the core SDK (the host hands it a segmenter)', () => {
    const source = files.map(built).join('\n');
    expect(source).toContain('customElements');
    expect(source).not.toMatch(/\brequire\(/);
    // The core's storage, transport and model verification: none of them belongs here.
    for (const core of ['indexedDB', 'crypto.subtle', 'fetch(', 'BroadcastChannel', '/v1/']) expect(source, core).not.toContain(core);
  });
});
