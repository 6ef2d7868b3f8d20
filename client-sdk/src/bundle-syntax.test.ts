import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chromium68Findings } from './testing/chromium68-syntax.ts';

/**
 * 2020 TVs (webOS 5 = Chromium 68, Tizen 5.5 = Chromium 69) refuse a whole file that holds
 * one newer construct: every built file (the core, its chunks, the preference centre, the
 * snippet loader) must parse as Chromium 68 syntax. `npm test` builds the bundles first.
 */
const DIST = new URL('../dist/', import.meta.url);

function builtFiles(): string[] {
  try {
    return readdirSync(DIST).filter((f) => f.endsWith('.js'));
  } catch {
    return [];
  }
}

describe('Chromium 68 syntax', () => {
  it('finds each construct newer than Chromium 68, with its position', () => {
    const cases: Record<string, string> = {
      'a?.b': 'optional chaining',
      'a ?? b': 'nullish coalescing',
      'a ??= b': 'logical assignment ??=',
      'a ||= b': 'logical assignment ||=',
      'a &&= b': 'logical assignment &&=',
      'class A { x = 1 }': 'class field',
      'class A { #x; m() { return this.#x } }': 'private name',
      'class A { #m() {} }': 'private method',
      'class A { static { } }': 'class static block',
      'const n = 1_000': 'numeric separator',
      'const n = 1_000n': 'numeric separator',
      'await 1': 'top-level await',
      'for await (const x of y) {}': 'top-level for await',
      '/a/d': 'regexp flag d',
      '/a/v': 'regexp flag v',
      "export * as ns from './x.js'": 'export * as name',
      "export { a as 'b-c' }; const a = 1": 'string module export name',
    };
    for (const [source, construct] of Object.entries(cases)) {
      const found = chromium68Findings(`\n  ${source}`);
      expect(found.map((f) => f.construct).join('; '), source).toContain(construct);
      expect(found[0]?.line, source).toBe(2);
    }
  });

  it('allows what Chromium 68 runs', () => {
    const allowed = [
      "import('./verify.min.js')",
      'const u = import.meta.url',
      'try { f() } catch { }',
      'const b = 10n ** 2n',
      'const { a, ...rest } = o; const c = { ...rest }',
      'async function* g() { for await (const x of y) yield x }',
      'async function f() { await 1 }',
      'const r = /(?<y>\\d{4})/su',
      'class A { constructor() { this.x = 1 } static m() {} }',
    ];
    for (const source of allowed) expect(chromium68Findings(source), source).toEqual([]);
  });

  const files = builtFiles();
  it('checks the built SDK', () => {
    expect(files, 'client-sdk/dist has no .js files: run `npm run build` (npm test does it first)').toEqual(expect.arrayContaining(['edgeseg.min.js', 'verify.min.js', 'release.min.js', 'data.min.js', 'contribute.min.js', 'contribute-local.min.js', 'preferences.min.js', 'queue.min.js']));
  });
  for (const file of files) {
    it(`client-sdk/dist/${file} parses as Chromium 68`, () => {
      const findings = chromium68Findings(readFileSync(new URL(file, DIST), 'utf8'));
      expect(findings.map((f) => `${file}:${f.line}:${f.column} ${f.construct}`)).toEqual([]);
    });
  }

  /**
   * APIs newer than Chromium 68 that the bundles must not use at all (the old-TV browser
   * test removes them too): a bundled dependency reading one would break a whole chunk
   * there, as @hpke's `globalThis.crypto` did until the build injected a shim.
   */
  const NEWER_APIS = [/\bglobalThis\b/, /\bObject\.fromEntries\b/, /\.flatMap\(/, /\.flat\(/, /\bstructuredClone\(/, /\.replaceAll\(/, /\.matchAll\(/, /\bPromise\.(allSettled|any)\b/, /\bObject\.hasOwn\(/, /\brandomUUID\(/];
  /**
   * A browser resolves no bare specifier: every static import in a built file is one of
   * the chunks beside it, and so is every import() but one. (@divviup/prio3 imports Node's
   * `buffer`; the build must bundle the npm polyfill, not leave `import "buffer"` or a
   * `node:` module for the page to fail on.) The exception: @hpke's `import("crypto")`,
   * its Node fallback inside a try, reached only where `crypto` is missing from the global
   * object, which no browser the SDK supports lacks.
   */
  const CHUNK_BESIDE = /^\.\/[a-z-]+\.min\.js$/;
  for (const file of files) {
    it(`client-sdk/dist/${file} imports only the SDK's own files beside it`, () => {
      const text = readFileSync(new URL(file, DIST), 'utf8');
      const statics = [...text.matchAll(/\b(?:import|export)\b[^"'();]*?\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']/g)].map((m) => m[1] ?? m[2] ?? '');
      const dynamics = [...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? '');
      expect(statics.filter((s) => !CHUNK_BESIDE.test(s))).toEqual([]);
      expect(dynamics.filter((s) => !CHUNK_BESIDE.test(s) && s !== 'crypto')).toEqual([]);
      if (dynamics.includes('crypto')) expect(text).toMatch(/try\{let\{webcrypto:\w+\}=await import\("crypto"\)/);
    });
  }

  for (const file of files) {
    it(`client-sdk/dist/${file} uses no API newer than Chromium 68, and queueMicrotask only behind feature detection`, () => {
      const text = readFileSync(new URL(file, DIST), 'utf8');
      expect(NEWER_APIS.filter((api) => api.test(text)).map(String)).toEqual([]);
      const calls = text.match(/\bqueueMicrotask\b/g) || [];
      const guarded = text.match(/typeof queueMicrotask/g) || [];
      expect(calls.length).toBeLessThanOrEqual(2 * guarded.length);
    });
  }
});
