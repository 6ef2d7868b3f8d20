/**
 * `@edgeseg/client-sdk` as an outside project gets it: `npm pack` of client-sdk, installed
 * offline into a throwaway app with a strict tsconfig (skipLibCheck off), type-checked by
 * the app's `tsc`, bundled by esbuild with code splitting, served from the app's own
 * origin and run in Chromium against the stack. The package must be self-contained
 * (built ESM, chunks and types; no sources, no tests, no dependencies), and the bundled
 * app must fetch no code from the endpoint: the SDK's chunks are split into the app.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { startHostOrigin, type HostOrigin } from '../support/host-origin.ts';
import { bundleApp, createThrowawayApp, type ThrowawayApp, type ThrowawayAppWindow } from '../support/npm-app.ts';
import { finishedTitleEvents } from './catalogue-events.ts';

const base = inject('baseUrl');

/** Two finished titles of the demo catalogue as playback events (play + complete each). */
const EVENTS = finishedTitleEvents(2);

let app: ThrowawayApp;
let host: HostOrigin | undefined;

beforeAll(() => {
  app = createThrowawayApp(EVENTS);
}, 60_000);

afterAll(async () => {
  await host?.close();
  app?.remove();
});

describe('the npm package in a throwaway app', () => {
  it('ships built files and self-contained types, no sources, tests or dependencies', () => {
    const files = app.run('tar', ['-tzf', app.tarball]).trim().split('\n');
    expect(files).toContain('package/dist/edgeseg.min.js');
    expect(files).toContain('package/dist/edgeseg.d.ts');
    expect(files).toContain('package/dist/preferences.min.js');
    expect(files).toContain('package/dist/preferences.d.ts');
    expect(files.filter((f) => /\/src\/|\.test\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/dist/types/'))).toEqual([]);
    const installed = join(app.dir, 'node_modules/@edgeseg/client-sdk');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(readdirSync(join(app.dir, 'node_modules'))).toEqual(['.package-lock.json', '@edgeseg']); // nothing else came with it
    for (const types of readdirSync(join(installed, 'dist')).filter((f) => f.endsWith('.d.ts'))) {
      expect(readFileSync(join(installed, 'dist', types), 'utf8'), types).not.toMatch(/from ['"]@edgeseg\/shared|import\(['"]@edgeseg\/shared/);
    }
  });

  it("type-checks with the app's strict tsc (skipLibCheck off)", () => {
    expect(app.typeCheck()).toBe('');
  }, 60_000);

  it('bundled with esbuild (splitting), runs from its own origin and fetches no code from the endpoint', async () => {
    const { files } = await bundleApp(app, { endpoint: base });
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
      await page.waitForFunction(() => (window as unknown as ThrowawayAppWindow).app.seg.segment() !== null);

      expect(await page.evaluate(() => (window as unknown as ThrowawayAppWindow).app.errors)).toEqual([]);
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
