/**
 * The hardening headers every page and every Worker answer carries, read over HTTP from
 * the real stack (wrangler dev serves the pages as Workers static assets, which apply
 * worker/public/_headers; the Worker's own answers get theirs from
 * worker/src/security-headers.ts). page-csp.test.ts checks in Chromium that the pages
 * work under them.
 */
import { describe, expect, inject, it } from 'vitest';

const base = inject('baseUrl');
const helper = new URL(inject('helperUrl')).origin;

/** The pages and the names they are also reached by (an `.html` name redirects to the page). */
const PAGES = ['/', '/demo', '/preferences', '/dashboard'] as const;
const HTML_NAMES = ['/index.html', '/demo.html', '/preferences.html', '/dashboard.html'] as const;
/** What the pages load from this origin: never to be sniffed as another type. */
const PAGE_FILES = ['/app.css', '/favicon.svg', '/demo/main.js', '/demo/catalogue.json', '/dashboard/main.js', '/dashboard/dom.js', '/preferences/main.js', '/preferences/page.css', '/vendor/uPlot.esm.js'] as const;
/** Features no page uses: the Permissions-Policy turns each off (an empty allow-list). */
const UNUSED_FEATURES = ['camera', 'microphone', 'geolocation', 'payment', 'usb', 'serial', 'hid', 'midi', 'display-capture', 'fullscreen', 'autoplay'] as const;

/** A CSP header as directive → its source list. */
function directives(csp: string | null): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), sources);
  }
  return map;
}

function expectPageHeaders(path: string, headers: Headers): void {
  const csp = directives(headers.get('content-security-policy'));
  expect(csp.get('default-src'), path).toEqual(["'self'"]);
  expect(csp.get('script-src'), path).toEqual(["'self'"]); // no 'unsafe-inline', no 'unsafe-eval'
  // The dashboard also reads the helper's signed ledger, and /demo and /preferences the
  // helper's key, from the helper's origin: exactly that origin, added by the Worker (page-csp.ts).
  expect(csp.get('connect-src'), path).toEqual(/^\/(dashboard|demo|preferences)/.test(path) ? ["'self'", helper] : ["'self'"]);
  expect(csp.get('img-src'), path).toEqual(["'self'"]);
  expect(csp.get('object-src'), path).toEqual(["'none'"]);
  expect(csp.get('base-uri'), path).toEqual(["'none'"]);
  expect(csp.get('form-action'), path).toEqual(["'self'"]);
  expect(csp.get('frame-ancestors'), path).toEqual(["'none'"]);
  // Inline styles only where the preference element's shadow <style> needs them.
  expect(csp.get('style-src'), path).toEqual(path.startsWith('/preferences') ? ["'self'", "'unsafe-inline'"] : ["'self'"]);
  expect(headers.get('x-frame-options'), path).toBe('DENY');
  expect(headers.get('x-content-type-options'), path).toBe('nosniff');
  expect(headers.get('referrer-policy'), path).toBe('no-referrer');
  const permissions = new Map((headers.get('permissions-policy') ?? '').split(',').map((p) => p.trim().split('=') as [string, string]));
  for (const feature of UNUSED_FEATURES) expect(permissions.get(feature), `${path} ${feature}`).toBe('()');
}

describe('pages', () => {
  for (const path of PAGES) {
    it(`${path} answers 200 HTML with the CSP, frame, sniffing, referrer and permissions headers`, async () => {
      const res = await fetch(`${base}${path}`, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expectPageHeaders(path, res.headers);
      await res.body?.cancel();
    });
  }

  for (const path of HTML_NAMES) {
    it(`${path} carries them on its redirect and on the page it leads to`, async () => {
      const redirect = await fetch(`${base}${path}`, { redirect: 'manual' });
      expect([200, 307, 308]).toContain(redirect.status);
      expectPageHeaders(path, redirect.headers);
      await redirect.body?.cancel();
      const page = await fetch(`${base}${path}`);
      expect(page.status).toBe(200);
      expectPageHeaders(path, page.headers);
      await page.body?.cancel();
    });
  }

  it('the files the pages load are never sniffed', async () => {
    for (const path of PAGE_FILES) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      await res.body?.cancel();
    }
  });

  it('the SDK files keep their own headers and get none of a page’s', async () => {
    const page = await (await fetch(`${base}/demo`)).text();
    const sdk = /href="(\/sdk\/[^"]+\.js)"/.exec(page)?.[1];
    expect(sdk).toBeDefined();
    const res = await fetch(`${base}${sdk}`, { headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff'); // once, not joined with a page rule's
    expect(res.headers.get('content-security-policy')).toBeNull();
    await res.body?.cancel();
  });
});

describe('Worker answers', () => {
  const answers: [string, () => Promise<Response>, number][] = [
    ['GET /healthz', () => fetch(`${base}/healthz`), 200],
    ['GET /v1/model', () => fetch(`${base}/v1/model`), 200],
    ['GET /.well-known/jwks.json', () => fetch(`${base}/.well-known/jwks.json`), 200],
    ['a 404 problem', () => fetch(`${base}/no-such-page`), 404],
    ['a 422 problem', () => fetch(`${base}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reports":[]}' }), 422],
    ['a 401 problem', () => fetch(`${base}/v1/segments`), 401],
  ];
  for (const [name, send, status] of answers) {
    it(`${name} may not run, load or be framed, and is never sniffed`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      const csp = directives(res.headers.get('content-security-policy'));
      expect(csp.get('default-src')).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      await res.body?.cancel();
    });
  }

  it('device routes still answer other origins', async () => {
    const res = await fetch(`${base}/v1/model`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.body?.cancel();
  });
});
