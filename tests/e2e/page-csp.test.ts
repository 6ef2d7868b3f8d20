/**
 * The pages under their hardening headers, in real Chromium against the real stack: each
 * renders and works with zero CSP violations (and no header the browser rejects), an
 * injected inline script is refused, and /preferences cannot be framed by another origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';

const base = inject('baseUrl');

interface Violation {
  directive: string;
  blocked: string;
  sample: string;
}

let browser: FreshContext;

beforeAll(async () => {
  browser = await launchChromium();
  // Every CSP violation of every page and frame, as the browser reports it to the page.
  await browser.context.addInitScript(() => {
    const w = window as unknown as { __violations: Violation[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }));
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens `path` in a new tab, noting console messages about policies (a refused resource, a header the browser rejects). */
async function open(path: string): Promise<{ page: Page; policyMessages: string[] }> {
  const page = await browser.context.newPage();
  const policyMessages: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Permissions-Policy|Refused to|X-Frame-Options/i.test(m.text())) policyMessages.push(m.text());
  });
  page.on('pageerror', (e) => policyMessages.push(`page error: ${e.message}`));
  await page.goto(`${base}${path}`);
  return { page, policyMessages };
}

const violations = (page: Page) => page.evaluate(() => (window as unknown as { __violations: Violation[] }).__violations);

describe('each page works under its CSP', () => {
  it('/ renders with no violation', async () => {
    const { page, policyMessages } = await open('/');
    await page.waitForLoadState('load');
    expect(await page.textContent('h1')).toBe('edgeseg');
    // Styles from app.css applied (a refused stylesheet would leave the default white background).
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe('rgba(0, 0, 0, 0)');
    expect(await violations(page)).toEqual([]);
    expect(policyMessages).toEqual([]);
    await page.close();
  });

  it('/demo runs the SDK and its catalogue with no violation', async () => {
    const { page, policyMessages } = await open('/demo');
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('button[data-action="finish"]');
    await page.waitForSelector('#segment strong', { timeout: 15_000 }); // a segment, computed on the device
    expect(await violations(page)).toEqual([]);
    expect(policyMessages).toEqual([]);
    await page.close();
  });

  it('/preferences renders the element (shadow styles included) with no violation', async () => {
    const { page, policyMessages } = await open('/preferences');
    await page.waitForSelector('body[data-ready="true"]');
    // The element's shadow <style> applied: its switches are laid out by it, not by the browser's defaults.
    const styled = await page.evaluate(() => {
      const root = document.querySelector('edgeseg-preferences')?.shadowRoot;
      const sheet = root?.querySelector('style')?.sheet;
      return { rules: sheet ? sheet.cssRules.length : 0, pageRule: getComputedStyle(document.querySelector('main') as Element).maxWidth };
    });
    expect(styled.rules).toBeGreaterThan(0);
    expect(styled.pageRule).not.toBe('none'); // /preferences/page.css loaded
    expect(await violations(page)).toEqual([]);
    expect(policyMessages).toEqual([]);
    await page.close();
  });

  it('/dashboard signs in and draws its panels with no violation; bar widths go through the CSSOM', async () => {
    const { page, policyMessages } = await open('/dashboard');
    await page.fill('#token', await mintToken(inject('authJwk'), { role: 'marketer' }));
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]');
    // The panels' bars are sized with a style attribute value through dom.js's h(): it must survive the CSP.
    // (A string, so the test runner does not rewrite the page's import().)
    const width = await page.evaluate(`import('/dashboard/dom.js').then(({ h }) => {
      const bar = h('span', { class: 'bar', style: 'width:42px' });
      document.body.append(bar);
      return getComputedStyle(bar).width;
    })`);
    expect(width).toBe('42px');
    expect(await violations(page)).toEqual([]);
    expect(policyMessages).toEqual([]);
    await page.close();
  });

  it('refuses a script injected into a page, and says so', async () => {
    const { page } = await open('/preferences');
    await page.waitForSelector('body[data-ready="true"]');
    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.appendChild(script);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__injected = true');
      img.src = 'data:,not-an-image';
      document.body.appendChild(img);
      await new Promise((r) => setTimeout(r, 200));
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    const seen = await violations(page);
    expect(seen.map((v) => v.directive).sort()).toEqual(['img-src', 'script-src-attr', 'script-src-elem'].sort());
    await page.close();
  });
});

describe('framing', () => {
  let host: Server;
  let hostUrl: string;

  beforeAll(async () => {
    // A page on another origin (another port) that frames /preferences, and, to show
    // frames do render here, one page of its own.
    host = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      if (req.url === '/own') res.end('<!doctype html><title>own</title><p id="own">framed fine</p>');
      else res.end(`<!doctype html><title>host</title><iframe id="own" src="/own"></iframe><iframe id="victim" src="${base}/preferences"></iframe>`);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    host?.closeAllConnections(); // Chromium keeps its connections alive; close() would wait for them
    await new Promise((resolve) => host?.close(resolve));
  });

  it('another origin cannot frame /preferences: the frame stays empty and the browser says why', async () => {
    const page = await browser.context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    await page.goto(hostUrl);
    await page.waitForLoadState('load');
    const own = page.frames().find((f) => f.url() === `${hostUrl}/own`);
    expect(await own?.textContent('#own')).toBe('framed fine');
    await expect.poll(() => messages.some((m) => m.includes('frame-ancestors')), { timeout: 10_000 }).toBe(true);
    // No frame holds the preference centre: the blocked frame shows Chromium's error page, not ours.
    for (const frame of page.frames()) {
      expect(frame.url()).not.toBe(`${base}/preferences`);
      expect(await frame.$('edgeseg-preferences')).toBeNull();
    }
    await page.close();
  });
});
