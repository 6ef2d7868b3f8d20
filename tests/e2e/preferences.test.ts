/**
 * The viewer's preference centre, `<edgeseg-preferences>` at /preferences, in real
 * Chromium against the real stack: consent through the element with a network audit,
 * Global Privacy Control, download, erase, keyboard-only use, axe-core, and a screenshot.
 * Each test is a fresh device (a new Chromium profile).
 */
import type { PlaybackEvent } from '@edgeseg/client-sdk';
import { decodeJwt } from 'jose';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { CONTENT_IDS, ensureOpenRound, expectAllowedContributionBody, expectAllowedReportBody, expectOnlyPageAndModel, flush, HELPER_KEY_FETCH, idbCounts, recordRequests, SDK_PREFERENCES, type DemoWindow, type Seen } from './demo-page.ts';
import type { RoundDescriptor } from '@edgeseg/shared';

const base = inject('baseUrl');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AXE = `${ROOT}node_modules/axe-core/axe.min.js`;
const SCREENSHOTS = `${ROOT}tests/screenshots`;
const PURPOSES = ['personalization', 'measurement', 'model_improvement'] as const;
const TITLES = { personalization: 'Personalization', measurement: 'Measurement', model_improvement: 'Model improvement' } as const;
type Purpose = (typeof PURPOSES)[number];

let round: RoundDescriptor;
let k: number;

beforeAll(async () => {
  round = await ensureOpenRound(base, inject('authJwk'));
  k = Number(decodeJwt(await (await fetch(`${base}/v1/model`)).text()).k);
});

async function withBrowser(run: (browser: FreshContext) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  if (process.env.PREFS_DEBUG) browser.context.on('console', (m) => console.error('[page]', m.text()));
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function openPreferences(page: Page): Promise<void> {
  await page.goto(`${base}/preferences`);
  await page.waitForSelector('body[data-ready="true"]');
}

/** Watches `ids` to the end through the page's segmenter (play + complete each), and writes the events. */
async function watch(page: Page, ids: readonly string[]): Promise<void> {
  await page.evaluate((list) => {
    const seg = (window as unknown as DemoWindow).edgeseg;
    for (const contentId of list) {
      const event = (type: PlaybackEvent['type'], positionSec: number): PlaybackEvent => ({ type, contentId, genres: ['Drama', 'Crime'], durationSec: 3000, positionSec, device: 'tv' });
      seg.track(event('play', 0));
      seg.track(event('complete', 3000));
    }
  }, ids);
  await flush(page);
}

const switchState = (page: Page, purpose: Purpose): Promise<string | null> => page.getAttribute(`#${purpose}`, 'aria-checked');
const shadowText = (page: Page, id: string): Promise<string> => page.locator(`edgeseg-preferences #${id}`).innerText();

/** Flips one switch with a click, waits for the element to confirm, then flushes the SDK. */
async function flip(page: Page, purpose: Purpose, on: boolean): Promise<void> {
  expect(await switchState(page, purpose)).toBe(String(!on));
  await page.click(`#${purpose}`);
  expect(await switchState(page, purpose)).toBe(String(on));
  await page.locator('edgeseg-preferences #status', { hasText: `${TITLES[purpose]} is ${on ? 'on' : 'off'}.` }).waitFor();
  await flush(page);
}

/** The element's own bundle (with its shared chunks), which /preferences loads beside the page assets. */
const ELEMENT_BUNDLE = SDK_PREFERENCES;

/** Like expectOnlyPageAndModel, for /preferences: its element bundle may be fetched too (GET, no body). */
function expectOnlyPreferencesAndModel(seen: readonly Seen[]): void {
  for (const r of seen.filter((s) => ELEMENT_BUNDLE.includes(s.path))) expect([r.method, r.body]).toEqual(['GET', null]);
  expectOnlyPageAndModel(seen.filter((s) => !ELEMENT_BUNDLE.includes(s.path)));
}

const posts = (seen: readonly Seen[], from: number): Seen[] => seen.slice(from).filter((r) => r.method !== 'GET');

/** `exportData().lastSent` of a purpose, when this SDK build records it. */
function lastSent(page: Page, purpose: Purpose): Promise<{ body: unknown } | null | undefined> {
  return page.evaluate(async (p) => {
    const data = (await (window as unknown as DemoWindow).edgeseg.exportData()) as { lastSent?: Record<string, { body: unknown }> } | null;
    return data?.lastSent === undefined ? undefined : (data.lastSent[p] ?? null);
  }, purpose);
}

/**
 * What the element shows under "what leaves this device" for `purpose` matches `body`,
 * the exact request body the audit saw (or, on an SDK without `lastSent`, it says so).
 */
async function expectShownPayload(page: Page, purpose: Purpose, body: string): Promise<void> {
  const recorded = await lastSent(page, purpose);
  if (recorded === undefined) {
    expect(await shadowText(page, `${purpose}-sent`)).toBe(`Nothing has left this device for ${TITLES[purpose].toLowerCase()}.`);
    return;
  }
  await page.click(`#${purpose}-show`);
  expect(JSON.parse(await shadowText(page, `${purpose}-payload`))).toEqual(JSON.parse(body));
}

describe('consent through <edgeseg-preferences>, with a network audit', () => {
  it('grants and withdraws each purpose: only a granted purpose sends, each exactly its allowed payload, and nothing leaves after withdrawal', async () => {
    await withBrowser(async ({ context }) => {
      const seen = recordRequests(context, base);
      const page = await context.newPage();
      await openPreferences(page);
      await watch(page, CONTENT_IDS.slice(0, 3));
      await openPreferences(page);
      expect(await Promise.all(PURPOSES.map((p) => switchState(page, p)))).toEqual(['true', 'false', 'false']);
      expect(await shadowText(page, 'personalization-sent')).toBe('Nothing, ever: personalization works only on this device.');

      // Personalization only ever works on the device.
      let from = seen.length;
      await flip(page, 'personalization', false);
      await flip(page, 'personalization', true);
      expect(posts(seen, from)).toEqual([]);

      from = seen.length;
      const report = page.waitForResponse((r) => r.url().endsWith('/v1/reports'));
      await flip(page, 'measurement', true);
      expect((await report).status()).toBe(202);
      const measured = posts(seen, from);
      expect(measured.map((r) => r.path)).toEqual(['/v1/reports']);
      expectAllowedReportBody(measured[0]?.body as string, k);
      await expectShownPayload(page, 'measurement', measured[0]?.body as string);
      const spent = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger);
      expect(spent?.spentLast30Days.measurement).toBeGreaterThan(0);
      expect(await shadowText(page, 'measurement-ledger')).toBe(`ε ${Math.round((spent?.spentLast30Days.measurement ?? 0) * 100) / 100} of ${spent?.cap.measurement} used in the last 30 days`);
      // The budget in plain words: ε per 30 days and per year from the device's caps, what e^ε allows, every report kind.
      expect(spent?.cap).toEqual({ measurement: 2, model_improvement: 2, total_365d: 11 });
      const meaning = await shadowText(page, 'budget-meaning');
      expect(meaning).toContain('Measurement: at most ε 2 in any 30 days');
      expect(meaning).toContain('Model improvement: at most ε 2 in any 30 days');
      expect(meaning).toContain('at most ε 11 in any 365 days');
      expect(meaning).toContain('at most 7.4 times more sure'); // e^2
      expect(meaning).toContain('at most 45 in 100 after');
      for (const kind of ['segment', 'viewing stage', 'campaigns shown', 'training contributions', 'validity proof', 'randomized responses']) expect(meaning).toContain(kind);
      expect(await shadowText(page, 'measurement-desc')).not.toMatch(/nobody can tell/i);
      expect(await shadowText(page, 'measurement-desc')).toContain('reveals nothing new');

      from = seen.length;
      await flip(page, 'measurement', false);
      expect(posts(seen, from)).toEqual([]);

      from = seen.length;
      const contribution = page.waitForResponse((r) => r.url().endsWith('/v1/contributions'));
      await flip(page, 'model_improvement', true);
      expect((await contribution).status()).toBe(202);
      const contributed = posts(seen, from);
      expect(contributed.map((r) => r.path)).toEqual(['/v1/contributions']);
      expectAllowedContributionBody(contributed[0]?.body as string, round);
      await expectShownPayload(page, 'model_improvement', contributed[0]?.body as string);

      from = seen.length;
      await flip(page, 'model_improvement', false);
      // After withdrawal: more viewing, a reload, and nothing but the page and the model fetch.
      await watch(page, CONTENT_IDS.slice(3, 5));
      await openPreferences(page);
      await flush(page);
      expectOnlyPreferencesAndModel(seen.slice(from));
      expect(await Promise.all(PURPOSES.map((p) => switchState(page, p)))).toEqual(['true', 'false', 'false']);
      expect((await idbCounts(page)).outbox).toBe(0);
    });
  }, 150_000); // nine consent changes, each stored, flushed and re-read, on a shared 2-core machine

  it("with the helper unreachable, the page still works and says why; a grant of model improvement then sends nothing", async () => {
    await withBrowser(async ({ context }) => {
      const seen = recordRequests(context, base);
      const page = await context.newPage();
      const sdkErrors: string[] = [];
      page.on('console', (m) => m.text().startsWith('[edgeseg]') && sdkErrors.push(m.text()));
      await page.route(HELPER_KEY_FETCH, (route) => route.abort('connectionrefused'));
      await openPreferences(page);
      expect(await page.textContent('#helper-problem')).toMatch(/helper aggregator .* could not be reached.*everything on this device still works/);
      await watch(page, CONTENT_IDS.slice(0, 2));
      await flip(page, 'model_improvement', true);
      expect(await switchState(page, 'model_improvement')).toBe('true'); // the choice is stored; only the contribution waits
      expect(seen.filter((r) => r.path === '/v1/contributions')).toEqual([]);
      expect(sdkErrors.filter((e) => /secure mode needs the helper's HPKE key from the app/.test(e)), sdkErrors.join('\n')).toHaveLength(1);
      expect((await idbCounts(page)).outbox).toBe(0);
    });
  });

  it('withdrawing through the element deletes what is still queued: nothing leaves once the network is back', async () => {
    await withBrowser(async ({ context }) => {
      const seen = recordRequests(context, base);
      const page = await context.newPage();
      await page.route(/\/v1\/(reports|contributions)$/, (route) => route.abort()); // hold both in the outbox
      await openPreferences(page);
      await watch(page, CONTENT_IDS.slice(0, 2));
      await flip(page, 'measurement', true);
      await flip(page, 'model_improvement', true);
      expect((await idbCounts(page)).outbox).toBe(3); // this week's segment and lifecycle reports, and the contribution
      await expect.poll(() => shadowText(page, 'measurement-sent')).toBe('Nothing has left this device for measurement.');

      await flip(page, 'measurement', false);
      await flip(page, 'model_improvement', false);
      expect((await idbCounts(page)).outbox).toBe(0);
      const from = seen.length;
      await page.unroute(/\/v1\/(reports|contributions)$/);
      await watch(page, CONTENT_IDS.slice(2, 3));
      await page.waitForTimeout(1500); // past the sender's first retry
      expect(posts(seen, from)).toEqual([]);
    });
  });

  it('shows when Global Privacy Control overrides a choice, and its switches cannot turn sending on', async () => {
    await withBrowser(async ({ context }) => {
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
      const seen = recordRequests(context, base);
      const page = await context.newPage();
      await openPreferences(page);
      await watch(page, CONTENT_IDS.slice(0, 2));
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.set({ measurement: true })); // the stored choice, as an app might set it
      await openPreferences(page);

      expect(await page.locator('edgeseg-preferences p.warn', { hasText: 'Your browser sends Global Privacy Control' }).first().isVisible()).toBe(true);
      expect(await shadowText(page, 'measurement-note')).toMatch(/^You turned this on, but your browser sends Global Privacy Control/);
      expect(await shadowText(page, 'model_improvement-note')).toMatch(/Global Privacy Control, which keeps this off/);
      for (const p of ['measurement', 'model_improvement'] as const) {
        expect(await switchState(page, p)).toBe('false');
        expect(await page.getAttribute(`#${p}`, 'aria-disabled')).toBe('true');
        await page.click(`#${p}`, { force: true }); // a click on a locked switch changes nothing
        expect(await switchState(page, p)).toBe('false');
      }
      await flush(page);
      expectOnlyPreferencesAndModel(seen);
    });
  });
});

describe('without readable storage', () => {
  it('still shows and takes the choices for the visit, and says why nothing else is shown', async () => {
    await withBrowser(async ({ context }) => {
      await context.addInitScript(() => {
        // As in some private modes and TV runtimes: every IndexedDB open fails.
        IDBFactory.prototype.open = () => {
          throw new DOMException('storage unavailable', 'InvalidStateError');
        };
      });
      const seen = recordRequests(context, base);
      const page = await context.newPage();
      await openPreferences(page);
      expect(await shadowText(page, 'status')).toMatch(/could not be read, so only your choices are shown/);
      expect(await Promise.all(PURPOSES.map((p) => page.getAttribute(`#${p}`, 'aria-disabled')))).toEqual(['false', 'false', 'false']);
      await flip(page, 'measurement', true);
      expect(await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.get().measurement)).toBe(true);
      // Nothing to download or erase: those buttons stay disabled.
      expect([await page.getAttribute('#download', 'aria-disabled'), await page.getAttribute('#erase', 'aria-disabled')]).toEqual(['true', 'true']);
      expectOnlyPreferencesAndModel(seen);
    });
  });
});

describe('your data', () => {
  it('download gives a JSON file of everything on the device, with the viewer’s events', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      const ids = CONTENT_IDS.slice(0, 3);
      await watch(page, ids);
      const download = page.waitForEvent('download');
      await page.click('#download');
      const file = await download;
      expect(file.suggestedFilename()).toMatch(/^my-viewing-data-\d{4}-\d{2}-\d{2}\.json$/);
      const data = JSON.parse(readFileSync((await file.path()) as string, 'utf8')) as { format: string; events: { type: string; contentId: string }[]; consent: { effective: Record<Purpose, boolean> } };
      expect(data.format).toBe('edgeseg-export/1');
      expect(data.events.map((e) => `${e.type} ${e.contentId}`)).toEqual(ids.flatMap((id) => [`play ${id}`, `complete ${id}`]));
      expect(data.consent.effective).toEqual({ personalization: true, measurement: false, model_improvement: false });
      await page.locator('edgeseg-preferences #status', { hasText: 'Downloaded my-viewing-data-' }).waitFor();
    });
  });

  it('erase asks for confirmation inside the element, then deletes the viewer’s data from IndexedDB, keeping spent ε as a floor', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      await watch(page, CONTENT_IDS.slice(0, 3));
      await flip(page, 'measurement', true);
      const before = await idbCounts(page);
      expect(before.events).toBe(6);
      expect(before.consentLog).toBe(1);

      let dialogs = 0;
      page.on('dialog', () => dialogs++);
      await page.click('#erase');
      expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(true);
      expect(await page.getAttribute('#erase', 'aria-expanded')).toBe('true');
      expect(await shadowText(page, 'confirm-text')).toMatch(/^This deletes 6 viewing events, .*1 consent change/);
      expect(await shadowText(page, 'confirm-text')).toContain('except when and how much privacy budget was used, which is kept so that erasing cannot reset it');
      await page.click('#cancel-erase'); // cancel keeps everything
      expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(false);
      expect(await idbCounts(page)).toEqual(before);

      await page.click('#erase');
      await page.click('#confirm-erase');
      await page.locator('edgeseg-preferences #status', { hasText: 'Erased' }).waitFor();
      const after = await idbCounts(page);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      // Everything the viewer's data is made of is gone; spent ε stays as a floor (erasing must not reset the budget).
      expect({ ...after, ledger: 0, kv: 0 }, JSON.stringify(after)).toEqual(Object.fromEntries(Object.keys(after).map((name) => [name, 0])));
      expect(after.ledger).toBe(before.ledger);
      const floor = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger);
      expect(floor?.entries.map((e) => e.release)).toEqual(floor?.entries.map(() => 'erased')); // when and how much, not what was released
      expect(floor?.spentLast30Days.measurement).toBeGreaterThan(0);
      expect(dialogs).toBe(0); // no window.confirm
      expect(await Promise.all(PURPOSES.map((p) => switchState(page, p)))).toEqual(['true', 'false', 'false']); // back to the defaults
    });
  });
});

/** The id of the focused control, inside the element's shadow root or in the page. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement;
    const inner = active?.shadowRoot?.activeElement;
    return inner ? inner.id : (active?.textContent ?? '').trim();
  });
}

/**
 * Dispatches a keydown with `keyCode` on the focused control (inside the element's shadow
 * root), as a TV remote's Back button sends it: Playwright's keyboard cannot send webOS's
 * 461 or Tizen's 10009. Resolves with whether the event reached a listener on document.
 */
function pressRemoteKey(page: Page, keyCode: number, key = 'Unidentified'): Promise<boolean> {
  return page.evaluate(
    ([code, name]) => {
      let reached = false;
      const onDocument = (e: KeyboardEvent): void => {
        if (e.keyCode === code) reached = true;
      };
      document.addEventListener('keydown', onDocument);
      const active = document.activeElement;
      const target = active?.shadowRoot?.activeElement ?? active ?? document.body;
      const event = new KeyboardEvent('keydown', { key: name, bubbles: true, composed: true, cancelable: true });
      Object.defineProperty(event, 'keyCode', { get: () => code }); // KeyboardEventInit has no standard keyCode
      target.dispatchEvent(event);
      document.removeEventListener('keydown', onDocument);
      return reached;
    },
    [keyCode, key] as const,
  );
}

describe('keyboard and TV remote', () => {
  const ORDER = ['personalization', 'measurement', 'model_improvement', 'download', 'erase'];

  it('Tab and arrow keys reach every control in order, Enter and Space toggle, Escape closes the erase confirmation', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      for (const link of ['Browse', 'Privacy choices']) {
        await page.keyboard.press('Tab');
        expect(await focused(page)).toBe(link);
      }
      const tabbed: string[] = [];
      for (const _ of ORDER) {
        await page.keyboard.press('Tab');
        tabbed.push(await focused(page));
      }
      expect(tabbed).toEqual(ORDER);

      // A TV remote's D-pad: up and down (and left/right) walk the same list, stopping at the ends.
      const walked: string[] = [];
      for (const _ of ORDER) {
        await page.keyboard.press('ArrowUp');
        walked.unshift(await focused(page));
      }
      expect(walked).toEqual(['personalization', ...ORDER.slice(0, -1)]);
      for (const key of ['ArrowDown', 'ArrowRight']) await page.keyboard.press(key);
      expect(await focused(page)).toBe('model_improvement');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('End');
      expect(await focused(page)).toBe('erase');
      await page.keyboard.press('Home');
      expect(await focused(page)).toBe('personalization');

      // Enter and Space toggle the focused switch.
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.locator('edgeseg-preferences #status', { hasText: 'Measurement is on.' }).waitFor();
      expect(await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.get().measurement)).toBe(true);
      await page.keyboard.press('Space');
      await page.locator('edgeseg-preferences #status', { hasText: 'Measurement is off.' }).waitFor();
      expect(await switchState(page, 'measurement')).toBe('false');
      expect(await focused(page)).toBe('measurement'); // re-rendering keeps focus

      // Erase opens its confirmation with focus on the safe choice; arrows reach both buttons; Escape closes.
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      expect(await focused(page)).toBe('cancel-erase');
      await page.keyboard.press('ArrowUp');
      expect(await focused(page)).toBe('confirm-erase');
      await page.keyboard.press('Escape');
      expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(false);
      expect(await focused(page)).toBe('erase');
    });
  });

  it('TV Back keys (webOS 461, Tizen 10009) close the erase confirmation like Escape, and go no further; with it closed Back is the app’s', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      for (const [keyCode, key] of [[461, 'Unidentified'], [10009, 'XF86Back']] as const) {
        await page.focus('#erase');
        await page.keyboard.press('Enter');
        expect(await page.isVisible('edgeseg-preferences #confirm')).toBe(true);
        expect(await focused(page)).toBe('cancel-erase');
        expect(await pressRemoteKey(page, keyCode, key), `${keyCode} reached the page`).toBe(false);
        expect(await page.isVisible('edgeseg-preferences #confirm'), `${keyCode} closes`).toBe(false);
        expect(await page.getAttribute('#erase', 'aria-expanded')).toBe('false');
        expect(await focused(page)).toBe('erase');
        // Nothing open: the app gets the Back press (to leave the page, say).
        expect(await pressRemoteKey(page, keyCode, key), `${keyCode} with nothing open`).toBe(true);
      }
    });
  });

  it('keeps :focus-visible behaviour on a current engine: a pointer click shows no ring, the keyboard does', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      const outline = (id: string): Promise<string> => page.locator(`edgeseg-preferences #${id}`).evaluate((el) => getComputedStyle(el).outlineStyle);
      await page.click('#download');
      expect(await focused(page)).toBe('download');
      expect(await outline('download')).toBe('none');
      await page.keyboard.press('ArrowRight');
      expect(await focused(page)).toBe('erase');
      expect(await outline('erase')).toBe('solid');
    });
  });

  it('shows a visible focus ring on every control', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await openPreferences(page);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      for (const id of ORDER) {
        await page.keyboard.press('Tab');
        const ring = await page.locator(`edgeseg-preferences #${id}`).evaluate((el) => getComputedStyle(el));
        expect(ring.outlineStyle, id).toBe('solid');
        expect(parseFloat(ring.outlineWidth), id).toBeGreaterThanOrEqual(3);
      }
    });
  });
});

describe('accessibility and look', () => {
  it('axe-core finds no WCAG 2.1 A/AA violations, with payloads shown and the erase confirmation open; writes a screenshot', async () => {
    await withBrowser(async ({ context }) => {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await openPreferences(page);
      await watch(page, CONTENT_IDS.slice(0, 3));
      await flip(page, 'measurement', true);
      const audit = async (): Promise<unknown[]> => {
        await page.evaluate(readFileSync(AXE, 'utf8')); // not a <script> tag: the page's CSP refuses inline scripts
        return page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; nodes: { target: unknown }[] }[] }> } }).axe;
          const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return result.violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target) }));
        });
      };
      expect(await audit()).toEqual([]);

      for (const summary of await page.locator('edgeseg-preferences summary').all()) if (await summary.isVisible()) await summary.click();
      await page.click('#erase');
      expect(await audit()).toEqual([]);
      await page.keyboard.press('Escape');

      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.locator('#erase').blur();
      await page.screenshot({ path: `${SCREENSHOTS}/preferences.png`, fullPage: true });
    });
  });
});
