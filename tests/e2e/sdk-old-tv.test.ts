/**
 * 2020 TVs (webOS 5 = Chromium 68, Tizen 5.5 = Chromium 69), emulated in the current
 * Chromium: before any page script runs, every built-in API those engines lack is
 * removed (REMOVED_FOR_2020_TVS, cited by docs/support-matrix.md). Then the real pages
 * run against the real stack: /demo computes a segment, a report reaches the server and
 * exportData() returns the data; /preferences renders, toggles a purpose, closes its
 * erase confirmation with a TV remote's Back key and keeps a focus ring once the
 * `:focus-visible` rules are dropped as those engines drop them, and the consent-platform
 * connector (cmp.min.js) sets consent from a TCF CMP. Nothing may reach onError (the pages
 * log it with console.warn) or the console.
 */
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { SDK_BASE } from '../support/built-sdk.ts';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { reportsReceived } from '../support/ingest.ts';
import { REMOVED_FOR_2020_TVS, removeApis, stillPresent } from '../support/old-tv.ts';
import { CONTENT_IDS, ensureOpenRound, finishTitles, openDemo, type DemoWindow } from './demo-page.ts';

const base = inject('baseUrl');
const ALL_REMOVED = REMOVED_FOR_2020_TVS.map((r) => r.api);
/**
 * The demo page's own rendering (worker/public/demo, not part of the SDK) empties rows
 * with replaceChildren; the page is a showcase, not a TV target (it also uses top-level
 * await, Chromium 89). Everything else is removed there too.
 */
const DEMO_REMOVED = ALL_REMOVED.filter((api) => api !== 'Element.prototype.replaceChildren');

/** A fresh Chromium profile whose pages lack `apis` from their first script on. */
async function oldTvBrowser(apis: readonly string[]): Promise<FreshContext> {
  const browser = await launchChromium();
  await browser.context.addInitScript(removeApis, apis);
  return browser;
}

/** Everything that went wrong in the page: console errors and warnings (onError is logged with console.warn), uncaught errors, failed requests. */
function problems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`uncaught: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) seen.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return seen;
}

/**
 * Runs `fn(arg)` in the page's main world through the DevTools protocol and resolves with
 * its (JSON) result. Not page.evaluate: Playwright's main-world helper script itself uses
 * globalThis, which these pages no longer have. (Clicks, visibility and text reads run in
 * Playwright's isolated world, which keeps every built-in.)
 */
async function inPage<A, R>(cdp: CDPSession, fn: ((arg: A) => R | Promise<R>) | string, arg?: A): Promise<R> {
  // A string is evaluated as it is (for import(), which the test runner would rewrite inside a function).
  const expression = typeof fn === 'string' ? fn : `(${fn.toString()})(${JSON.stringify(arg ?? null)})`;
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(`in page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  return result.value as R;
}


/** A new page of `browser` on /preferences, ready, with a DevTools session and its problems recorded from the start. */
async function openPreferences(browser: FreshContext): Promise<{ page: Page; cdp: CDPSession; seen: string[] }> {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  const seen = problems(page);
  await page.goto(`${base}/preferences`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, cdp, seen };
}

/** Plays and completes `ids` through the page's segmenter, and flushes. */
function watchInPage(cdp: CDPSession, ids: readonly string[]): Promise<void> {
  return inPage(cdp, (list: string[]) => {
    const seg = (window as unknown as DemoWindow).edgeseg;
    for (const contentId of list) {
      seg.track({ type: 'play', contentId, genres: ['Drama'], durationSec: 3000, positionSec: 0, device: 'tv' });
      seg.track({ type: 'complete', contentId, genres: ['Drama'], durationSec: 3000, positionSec: 3000, device: 'tv' });
    }
    return seg.flush();
  }, [...ids]);
}

describe('on a 2020 TV (Chromium with the APIs Chromium 68 lacks removed)', () => {
  it('/demo: the SDK computes a segment, sends a report the server counts, and exports the data', { timeout: 90_000 }, async () => {
    const browser = await oldTvBrowser(DEMO_REMOVED);
    try {
      const page = await browser.context.newPage();
      const cdp = await browser.context.newCDPSession(page);
      const seen = problems(page);
      await openDemo(page, base);
      expect(await inPage(cdp, stillPresent, DEMO_REMOVED)).toEqual([]); // the emulation holds in the page itself
      const segment = () => inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.segment());
      const flush = () => inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.flush());

      const ids = CONTENT_IDS.slice(0, 3);
      await finishTitles(page, ids);
      await flush();
      await expect.poll(segment, { timeout: 15_000 }).not.toBeNull();

      const before = await reportsReceived(base, inject('authJwk'));
      const posted = page.waitForResponse((r) => r.url().endsWith('/v1/reports'));
      await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.consent.set({ measurement: true }));
      const response = await posted;
      expect(response.status()).toBe(202);
      const sent = (JSON.parse(response.request().postData() ?? '{}') as { reports?: { kind?: string }[] }).reports ?? [];
      const segmentReports = sent.filter((r) => (r.kind ?? 'segment') === 'segment').length; // the admin count is of segment reports
      expect(segmentReports).toBeGreaterThan(0);
      await flush();
      expect(await reportsReceived(base, inject('authJwk'))).toBe(before + segmentReports);

      const data = await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.exportData());
      expect(data).not.toBeNull();
      expect(data?.events.map((e) => e.contentId)).toEqual(ids.flatMap((id) => [id, id])); // play + complete each
      expect(data?.consent.effective).toEqual({ personalization: true, measurement: true, model_improvement: false });
      expect(data?.segment).toEqual(await segment());
      expect(data?.privacyLedger.spentLast30Days.measurement).toBeGreaterThan(0);
      expect(seen).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('/preferences: renders the data, toggles a purpose, closes the erase confirmation with Back (461), and keeps a focus ring without :focus-visible', { timeout: 90_000 }, async () => {
    const browser = await oldTvBrowser(ALL_REMOVED);
    try {
      const { page, cdp, seen } = await openPreferences(browser);
      expect(await inPage(cdp, stillPresent, ALL_REMOVED)).toEqual([]);

      // exportData() worked: the element shows the device's data, not the consent-only fallback.
      expect(await page.getAttribute('#download', 'aria-disabled')).toBe('false');
      expect(await page.locator('edgeseg-preferences #status').innerText()).toBe('');
      expect(await page.locator('edgeseg-preferences #measurement-ledger').innerText()).toMatch(/^ε 0 of \d+ used in the last 30 days$/);

      expect(await page.getAttribute('#measurement', 'aria-checked')).toBe('false');
      await page.click('#measurement');
      await page.locator('edgeseg-preferences #status', { hasText: 'Measurement is on.' }).waitFor();
      expect(await page.getAttribute('#measurement', 'aria-checked')).toBe('true');
      expect(await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.consent.get().measurement)).toBe(true);

      // The erase confirmation, closed by webOS's Back key (keyCode 461, which Playwright's keyboard cannot send).
      await page.focus('#erase');
      await page.keyboard.press('Enter');
      expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(true);
      await inPage(cdp, () => {
        const host = document.querySelector('edgeseg-preferences');
        const target = host?.shadowRoot?.activeElement ?? host;
        const back = new KeyboardEvent('keydown', { key: 'Unidentified', bubbles: true, composed: true, cancelable: true });
        Object.defineProperty(back, 'keyCode', { get: () => 461 });
        target?.dispatchEvent(back);
      });
      expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(false);
      expect(await inPage(cdp, () => document.querySelector('edgeseg-preferences')?.shadowRoot?.activeElement?.id)).toBe('erase');

      // Chromium 68/69 do not know :focus-visible and drop every rule naming it when they
      // parse the sheet: drop them here the same way, then focus a control with the mouse.
      const dropped = await inPage(cdp, () => {
        const sheet = document.querySelector('edgeseg-preferences')?.shadowRoot?.styleSheets[0];
        if (!sheet) return -1;
        let count = 0;
        for (let i = sheet.cssRules.length - 1; i >= 0; i--) {
          const rule = sheet.cssRules[i];
          if (rule instanceof CSSStyleRule && rule.selectorText.indexOf(':focus-visible') >= 0) {
            sheet.deleteRule(i);
            count++;
          }
        }
        return count;
      });
      expect(dropped).toBeGreaterThan(0);
      await page.click('#personalization');
      await page.locator('edgeseg-preferences #status', { hasText: 'Personalization is off.' }).waitFor();
      const ring = await inPage(cdp, () => {
        const style = getComputedStyle(document.querySelector('edgeseg-preferences')?.shadowRoot?.getElementById('personalization') as Element);
        return { outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth };
      });
      expect(ring.outlineStyle).toBe('solid');
      expect(parseFloat(ring.outlineWidth)).toBeGreaterThanOrEqual(3);
      expect(seen).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('a TCF consent platform drives consent through cmp.min.js', { timeout: 60_000 }, async () => {
    const browser = await oldTvBrowser(ALL_REMOVED);
    try {
      const { page, cdp, seen } = await openPreferences(browser);
      expect(await page.getAttribute('#measurement', 'aria-checked')).toBe('false');
      await watchInPage(cdp, CONTENT_IDS.slice(0, 3));

      // The connector from the endpoint, and a CMP that has loaded and holds the viewer's answer (purposes 1, 5, 6, 8, 9).
      await inPage(cdp, `import(${JSON.stringify(`${SDK_BASE}/cmp.min.js`)}).then((m) => { window.edgesegCmp = m; })`);
      const reported = page.waitForResponse((r) => r.url().endsWith('/v1/reports'));
      const errors = await inPage(cdp, () => {
        type Callback = (data: unknown, success: boolean) => void;
        type Cmp = { connectConsentPlatform(seg: unknown, options: { onError(e: Error): void }): () => void };
        const listeners: Callback[] = [];
        const tcData = (consents: number[]) => {
          const flags: Record<number, boolean> = {};
          for (const id of consents) flags[id] = true;
          return { gdprApplies: true, cmpStatus: 'loaded', eventStatus: 'useractioncomplete', listenerId: 1, purpose: { consents: flags }, vendor: { consents: {} } };
        };
        const w = window as unknown as { __tcfapi: unknown; answer: (consents: number[]) => void; edgeseg: unknown; edgesegCmp: Cmp };
        w.__tcfapi = (command: string, _version: number, callback: Callback) => {
          if (command === 'addEventListener') {
            listeners.push(callback);
            callback(tcData([1, 5, 6, 8, 9]), true);
          } else callback(true, true);
        };
        w.answer = (consents) => listeners.forEach((cb) => cb(tcData(consents), true));
        const problems: string[] = [];
        w.edgesegCmp.connectConsentPlatform(w.edgeseg, { onError: (e) => problems.push(e.message) });
        return problems;
      });
      expect(errors).toEqual([]);
      await expect.poll(() => page.getAttribute('#measurement', 'aria-checked')).toBe('true'); // the element follows consent.onChange
      expect(await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.consent.get())).toEqual({ personalization: true, measurement: true, model_improvement: false });
      expect((await reported).status()).toBe(202);

      await inPage(cdp, () => (window as unknown as { answer(consents: number[]): void }).answer([1])); // the viewer withdraws in the CMP
      await expect.poll(() => page.getAttribute('#personalization', 'aria-checked')).toBe('false');
      expect(await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.consent.get())).toEqual({ personalization: false, measurement: false, model_improvement: false });
      expect(seen).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('model improvement: the device seals and sends its contribution to the open round (the contribution chunk)', { timeout: 60_000 }, async () => {
    await ensureOpenRound(base, inject('authJwk'));
    const browser = await oldTvBrowser(ALL_REMOVED);
    try {
      const { page, cdp, seen } = await openPreferences(browser);
      await watchInPage(cdp, CONTENT_IDS.slice(0, 3));

      const contributed = page.waitForResponse((r) => r.url().endsWith('/v1/contributions'), { timeout: 20_000 }).catch(() => null);
      await page.click('#model_improvement');
      await page.locator('edgeseg-preferences #status', { hasText: 'Model improvement is on.' }).waitFor();
      await inPage(cdp, () => (window as unknown as DemoWindow).edgeseg.flush());
      const response = await contributed;
      expect(seen).toEqual([]); // first: it says why nothing was sent, when nothing was
      expect(response?.status()).toBe(202);
    } finally {
      await browser.close();
    }
  });
});
