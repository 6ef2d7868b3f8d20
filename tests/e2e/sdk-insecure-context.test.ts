/**
 * A page on plain HTTP is not a secure context: browsers give it no `crypto.subtle`, so no
 * model can be verified and nothing sealed. The SDK must say so once, clearly (an
 * `insecure-context` EdgesegError), instead of failing later with "Cannot read properties
 * of undefined (reading 'importKey')", and must not fetch a model it cannot verify.
 * Chromium treats 127.0.0.1 as secure, so the host page is reached under a made-up name
 * that Chromium resolves to it (`--host-resolver-rules`): a real insecure origin.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SDK_BASE } from '../support/built-sdk.ts';
import { launchChromium } from '../support/chromium.ts';
import { startHostOrigin, type HostOrigin } from '../support/host-origin.ts';

const base = inject('baseUrl');
const sdk = `${base}${SDK_BASE}`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Plain HTTP app</title></head>
<body><script type="module">
  import { createSegmenter } from '${sdk}/edgeseg.min.js';
  window.errors = [];
  window.secure = window.isSecureContext;
  const seg = createSegmenter({ endpoint: '${base}', onError: (e) => window.errors.push({ name: e.name, code: e.code, stage: e.stage, message: e.message }) });
  seg.track({ type: 'play', contentId: 'tt1', genres: ['Drama'], durationSec: 3000, positionSec: 0, device: 'tv' });
  await seg.ready;
  await seg.consent.set({ measurement: true });
  await seg.flush();
  window.segment = seg.segment();
  document.body.dataset.ready = 'true';
</script></body></html>`;

let host: HostOrigin;
beforeAll(async () => {
  host = await startHostOrigin({ '/': { type: 'text/html; charset=utf-8', body: PAGE } });
});
afterAll(() => host.close());

describe('an insecure context', () => {
  it('gets one insecure-context error, no model fetch and no report', async () => {
    const port = new URL(host.origin).port;
    const browser = await launchChromium({ args: ['--host-resolver-rules=MAP plain-http.test 127.0.0.1'] });
    try {
      const page = await browser.context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`http://plain-http.test:${port}/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      expect(await page.evaluate(() => (window as unknown as { secure: boolean }).secure)).toBe(false);
      const errors = await page.evaluate(() => (window as unknown as { errors: { name: string; code: string; stage: string; message: string }[] }).errors);
      expect(errors.map((e) => [e.name, e.code, e.stage])).toEqual([['EdgesegError', 'insecure-context', 'init']]);
      expect(errors[0]?.message).toMatch(/crypto\.subtle is unavailable on plain HTTP: edgeseg needs a secure context \(HTTPS/);
      expect(await page.evaluate(() => (window as unknown as { segment: unknown }).segment)).toBeNull();
      expect(pageErrors).toEqual([]);
      // The page and the SDK itself; no model, no JWKS, no chunk, no report.
      expect(requests.filter((r) => !r.endsWith('/edgeseg.min.js'))).toEqual(['GET /']);
    } finally {
      await browser.close();
    }
  });
});
