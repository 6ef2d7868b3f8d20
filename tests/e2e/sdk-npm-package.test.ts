/**
 * `@edgeseg/client-sdk` as an outside project gets it: `npm pack` of client-sdk, installed
 * offline into a throwaway app with a strict tsconfig (skipLibCheck off), type-checked by
 * the app's `tsc`, bundled by esbuild with code splitting, served from the app's own
 * origin and run in Chromium against the stack. The package must be self-contained
 * (built ESM, chunks and types; no sources, no tests, no dependencies), and the bundled
 * app must fetch no code from the endpoint: the SDK's chunks are split into the app.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { startHostOrigin, type HostFile, type HostOrigin } from '../support/host-origin.ts';
import { CATALOGUE } from './demo-page.ts';

const base = inject('baseUrl');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = (cmd: string, args: string[], cwd: string): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });

/** Two finished titles of the demo catalogue as playback events (play + complete each). */
const EVENTS = CATALOGUE.titles.slice(0, 2).flatMap((t) => {
  const durationSec = t.minutes * 60;
  return (['play', 'complete'] as const).map((type) => ({ type, contentId: t.id, genres: t.genres, durationSec, positionSec: type === 'play' ? 0 : durationSec, device: 'tv' as const }));
});

/** The throwaway app: it uses the package's types the way an integrator's code would. */
const APP_TS = `import { createSegmenter, EdgesegError, type ConsentState, type PlaybackEvent, type Segmenter, type SegmentInfo } from '@edgeseg/client-sdk';
import { definePreferencesElement, type PreferencesElement } from '@edgeseg/client-sdk/preferences';

const endpoint: string = document.body.dataset.endpoint ?? '';
const errors: string[] = [];
const seg: Segmenter = createSegmenter({
  endpoint,
  appId: 'throwaway',
  onError: (e: EdgesegError) => errors.push(\`\${e.code} \${e.stage}: \${e.message}\`),
});
definePreferencesElement(); // already defined on import: a second call does nothing
const prefs: PreferencesElement = document.createElement('edgeseg-preferences');
prefs.segmenter = seg;
document.body.append(prefs);

const events: PlaybackEvent[] = ${JSON.stringify(EVENTS)};
const grant: Partial<ConsentState> = { measurement: true };
async function main(): Promise<void> {
  await seg.ready;
  await seg.consent.set(grant);
  for (const event of events) seg.track(event);
  await seg.flush();
  await prefs.refresh();
  seg.onSegmentChange((s: SegmentInfo | null) => void s);
  (window as unknown as { app: { seg: Segmenter; errors: string[] } }).app = { seg, errors };
  document.body.dataset.ready = 'true';
}
void main();
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2020',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2020', 'DOM', 'DOM.Iterable'],
    types: [],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  },
  include: ['app.ts'],
};

let work: string;
let app: string;
let tarball: string;
let host: HostOrigin | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'edgeseg-npm-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, 'client-sdk'))) as { filename: string }[];
  tarball = join(work, packed[0]?.filename ?? '');
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'throwaway-app', version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(app, 'app.ts'), APP_TS);
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
}, 60_000);

afterAll(async () => {
  await host?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the npm package in a throwaway app', () => {
  it('ships built files and self-contained types, no sources, tests or dependencies', () => {
    const files = run('tar', ['-tzf', tarball], work).trim().split('\n');
    expect(files).toContain('package/dist/edgeseg.min.js');
    expect(files).toContain('package/dist/edgeseg.d.ts');
    expect(files).toContain('package/dist/preferences.min.js');
    expect(files).toContain('package/dist/preferences.d.ts');
    expect(files.filter((f) => /\/src\/|\.test\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/dist/types/'))).toEqual([]);
    const installed = join(app, 'node_modules/@edgeseg/client-sdk');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(readdirSync(join(app, 'node_modules'))).toEqual(['.package-lock.json', '@edgeseg']); // nothing else came with it
    for (const types of readdirSync(join(installed, 'dist')).filter((f) => f.endsWith('.d.ts'))) {
      expect(readFileSync(join(installed, 'dist', types), 'utf8'), types).not.toMatch(/from ['"]@edgeseg\/shared|import\(['"]@edgeseg\/shared/);
    }
  });

  it("type-checks with the app's strict tsc (skipLibCheck off)", () => {
    let out = '';
    try {
      out = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(out.trim()).toBe('');
  }, 60_000);

  it('bundled with esbuild (splitting), runs from its own origin and fetches no code from the endpoint', async () => {
    const outdir = join(app, 'out');
    await build({ entryPoints: [join(app, 'app.ts')], absWorkingDir: app, bundle: true, splitting: true, format: 'esm', outdir, logLevel: 'error', target: 'chrome68' });
    const files: Record<string, HostFile> = {
      '/': { type: 'text/html; charset=utf-8', body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Throwaway app</title></head><body data-endpoint="${base}"><script type="module" src="/app.js"></script></body></html>` },
    };
    for (const f of readdirSync(outdir)) files[`/${f}`] = { type: 'text/javascript; charset=utf-8', body: readFileSync(join(outdir, f)) };
    expect(Object.keys(files).filter((f) => f.endsWith('.js')).length).toBeGreaterThan(1); // the lazily loaded chunks were split into the app
    host = await startHostOrigin(files);

    const browser = await launchChromium();
    try {
      const fromEndpoint: string[] = [];
      browser.context.on('request', (r) => {
        const url = new URL(r.url());
        if (url.origin === new URL(base).origin) fromEndpoint.push(url.pathname);
      });
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${host.origin}/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.waitForFunction(() => (window as unknown as { app: { seg: { segment(): unknown } } }).app.seg.segment() !== null);

      expect(await page.evaluate(() => (window as unknown as { app: { errors: string[] } }).app.errors)).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(fromEndpoint).toContain('/v1/model'); // it did talk to the endpoint…
      expect(fromEndpoint.filter((p) => p.endsWith('.js') || p.startsWith('/sdk/'))).toEqual([]); // …for data only, never for code
      expect(host.requested.filter((p) => p.endsWith('.js')).length).toBeGreaterThan(1); // the app's own chunks, from its own origin
      expect(await page.getAttribute('edgeseg-preferences #measurement', 'aria-checked')).toBe('true');
    } finally {
      await browser.close();
    }
  });
});
