/**
 * The SDK from another origin, as every real app runs it: a host page served by its own
 * server (tests/support/host-origin.ts, another port) loads the SDK from the stack's
 * versioned `/sdk/<version>/` folder, once as an ES module (with the preference centre)
 * and once through the classic-script snippet and its call queue. The lazily loaded
 * chunks come cross-origin too: a segment is only computed once the verification chunk
 * has loaded and the model is adopted.
 */
import type { Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SDK_BASE } from '../support/built-sdk.ts';
import { launchChromium } from '../support/chromium.ts';
import { startHostOrigin, type HostOrigin } from '../support/host-origin.ts';
import { reportsReceived } from '../support/ingest.ts';
import { finishedTitleEvents } from './catalogue-events.ts';
import { SDK_VERIFY } from './demo-page.ts';
import { expectServedCrossOrigin } from './outside-traffic.ts';

const base = inject('baseUrl');
const authJwk = inject('authJwk');
const sdk = `${base}${SDK_BASE}`;

/** Two finished titles of the demo catalogue as playback events (play + complete each). */
const EVENTS = finishedTitleEvents(2);

/** The host page that imports the SDK and the preference centre as ES modules from the endpoint. */
const MODULE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Host app</title></head>
<body><edgeseg-preferences></edgeseg-preferences>
<script type="module">
  import { createSegmenter } from '${sdk}/edgeseg.min.js';
  import '${sdk}/preferences.min.js';
  window.errors = [];
  const seg = createSegmenter({ endpoint: '${base}', onError: (e) => window.errors.push(e.code + ' ' + e.stage + ': ' + e.message) });
  window.seg = seg;
  await seg.ready;
  await seg.consent.set({ measurement: true });
  for (const event of ${JSON.stringify(EVENTS)}) seg.track(event);
  await seg.flush();
  const prefs = document.querySelector('edgeseg-preferences');
  prefs.segmenter = seg;
  await prefs.refresh();
  document.body.dataset.ready = 'true';
</script></body></html>`;

/** The host page with the README's classic-script snippet: no module script of its own. */
const SNIPPET_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Host app (snippet)</title></head>
<body>
<script>
  (function (w, src) {
    var q = [], stub = w.edgeseg = function () { q.push(arguments); };
    stub.q = q;
    import(src).catch(function (e) { q.forEach(function (c) { if (c[0] === 'init' && c[1] && c[1].onError) c[1].onError(e); }); });
  })(window, '${sdk}/queue.min.js');
  window.errors = [];
  edgeseg('init', { onError: function (e) { window.errors.push(e.code + ' ' + e.stage + ': ' + e.message); } });
  ${EVENTS.map((e) => `edgeseg('track', ${JSON.stringify(e)});`).join('\n  ')}
  edgeseg('consent', { measurement: true });
  edgeseg('ready', function (seg) {
    window.seg = seg;
    seg.flush().then(function () { document.body.dataset.ready = 'true'; });
  });
</script></body></html>`;

type HostWindow = Window & { seg: { segment(): unknown; flush(): Promise<void> }; errors: string[] };

let host: HostOrigin;
beforeAll(async () => {
  host = await startHostOrigin({
    '/': { type: 'text/html; charset=utf-8', body: MODULE_PAGE },
    '/snippet': { type: 'text/html; charset=utf-8', body: SNIPPET_PAGE },
  });
  expect(new URL(host.origin).origin).not.toBe(new URL(base).origin);
});
afterAll(async () => {
  await host?.close();
});

/** Opens `path` on the host in a fresh browser and checks the SDK worked from there. */
async function expectSegmentAndReport(path: string, more: (page: import('playwright-core').Page) => Promise<void> = async () => {}): Promise<void> {
  const browser = await launchChromium();
  try {
    const before = await reportsReceived(base, authJwk);
    const sdkResponses: Response[] = [];
    browser.context.on('response', (r) => {
      if (r.url().startsWith(`${base}/sdk/`)) sdkResponses.push(r);
    });
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(`${host.origin}${path}`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    await page.waitForFunction(() => (window as unknown as HostWindow).seg.segment() !== null);
    await page.evaluate(() => (window as unknown as HostWindow).seg.flush());

    expect(await page.evaluate(() => location.origin)).toBe(host.origin);
    expect(await page.evaluate(() => (window as unknown as HostWindow).seg.segment())).toMatchObject({ id: expect.any(Number), label: expect.any(String) });
    expect(await reportsReceived(base, authJwk)).toBe(before + 1);
    expect(await page.evaluate(() => (window as unknown as HostWindow).errors)).toEqual([]);
    expect(pageErrors).toEqual([]);

    // The chunks came from the endpoint, cross-origin, with CORS and immutable caching.
    const fetched = sdkResponses.map((r) => new URL(r.url()).pathname);
    for (const p of SDK_VERIFY) expect(fetched).toContain(p);
    await expectServedCrossOrigin(sdkResponses);
    await more(page);
  } finally {
    await browser.close();
  }
}

describe('the SDK on a host page of another origin', () => {
  it('as an ES module: computes a segment (verification chunk loaded cross-origin), sends the report, and the preference centre renders', async () => {
    await expectSegmentAndReport('/', async (page) => {
      const switches = page.locator('edgeseg-preferences [role="switch"]');
      expect(await switches.count()).toBeGreaterThanOrEqual(3);
      expect(await page.getAttribute('edgeseg-preferences #measurement', 'aria-checked')).toBe('true');
    });
  });

  it('through the classic-script snippet: the queued init, events and consent are replayed in order', async () => {
    await expectSegmentAndReport('/snippet', async (page) => {
      // The stub is gone: later calls go straight to the segmenter.
      expect(await page.evaluate(() => 'q' in (window as unknown as { edgeseg: object }).edgeseg)).toBe(false);
    });
  });
});
