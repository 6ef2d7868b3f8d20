import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The stack serves the SDK under `/sdk/<version>/` (client-sdk/package.json's version,
 * scripts/build-sdk.mjs), immutable once published. Pages, the README and the browser
 * tests name that folder literally: a version bump that left one behind would load
 * nothing (or, on a real deployment, an older SDK). Every `/sdk/…` path must carry the
 * package version.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'client-sdk/package.json'), 'utf8')) as { version: string }).version;

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return rel === 'worker/public/sdk' || rel === 'worker/public/vendor' ? [] : files(rel, ext);
    return ext.test(name) ? [rel] : [];
  });
}

describe('/sdk/<version>/ paths', () => {
  const scanned = [...files('worker/public', /\.(html|js)$/), ...files('tests/e2e', /\.ts$/), ...files('client-sdk/src', /\.ts$/), ...files('docs', /\.md$/), 'README.md'];

  it('scans the pages, the browser tests, the SDK sources, the docs and the README', () => {
    expect(scanned).toContain('worker/public/demo.html');
    expect(scanned).toContain('worker/public/preferences.html');
    expect(scanned).toContain('worker/public/demo/main.js');
  });

  it(`every /sdk/ path names the package version (${VERSION})`, () => {
    const wrong: string[] = [];
    let versioned = 0;
    for (const file of scanned) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/\/sdk\/([^\s'"`)]*)/g)) {
        const path = m[1] as string;
        if (path === '' || path === '…' || path.startsWith('<version>') || path.startsWith('${')) continue; // prose and templates, not a path
        if (path.startsWith(`${VERSION}/`)) versioned++;
        else wrong.push(`${file}: /sdk/${path}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(versioned).toBeGreaterThan(0);
  });
});
