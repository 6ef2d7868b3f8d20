/**
 * Every consent combination, GPC, and cross-tab withdrawal, each on a fresh device
 * (a new Chromium profile) against the real stack, with a round open.
 */
import type { ConsentState } from '@edgeseg/client-sdk';
import type { RoundDescriptor } from '@edgeseg/shared';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import {
  ensureOpenRound,
  expectAllowedContributionBody,
  expectAllowedReportBody,
  expectOnlyPageAndModel,
  finishTitles,
  flush,
  HELPER_KEY_FETCH,
  idbCounts,
  openDemo,
  PAGE_ASSETS,
  PIN_FETCHES,
  recordRequests,
  SDK_CONTRIBUTE,
  SDK_RELEASE,
  SDK_VERIFY,
  type DemoWindow,
} from './demo-page.ts';

const base = inject('baseUrl');
let round: RoundDescriptor;

beforeAll(async () => {
  round = await ensureOpenRound(base, inject('authJwk'));
});

const COMBINATIONS: ConsentState[] = [];
for (const personalization of [false, true]) for (const measurement of [false, true]) for (const model_improvement of [false, true]) COMBINATIONS.push({ personalization, measurement, model_improvement });

describe('network audit under every consent combination', () => {
  for (const consent of COMBINATIONS) {
    const name = Object.entries(consent).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(' ');
    it(name, async () => {
      const browser = await launchChromium();
      try {
        const seen = recordRequests(browser.context, base);
        const page = await browser.context.newPage();
        const errors: string[] = [];
        page.on('console', (m) => m.text().startsWith('[edgeseg]') && errors.push(m.text()));
        await openDemo(page, base);
        await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), consent);
        await finishTitles(page, ['sb-001', 'sb-003', 'sb-004']);
        await flush(page);

        const reports = seen.filter((r) => r.path === '/v1/reports');
        const contributions = seen.filter((r) => r.path === '/v1/contributions');
        expectOnlyPageAndModel(seen.filter((r) => r.path !== '/v1/reports' && r.path !== '/v1/contributions'), { modelImprovement: consent.model_improvement });
        // The page pins the helper's key first, whatever the consent: once, from the helper's own origin.
        expect(seen.filter((r) => PIN_FETCHES.includes(r.path) || HELPER_KEY_FETCH.test(r.path)).map((r) => (r.path === '/v1/stack' ? r.path : 'helper key'))).toEqual(['/v1/stack', 'helper key']);
        const apiCalls = new Set(seen.filter((r) => !PAGE_ASSETS.includes(r.path) && !PIN_FETCHES.includes(r.path) && !HELPER_KEY_FETCH.test(r.path)).map((r) => `${r.method} ${r.path}`));
        // A segment exists only with personalization (no events are kept without it); a
        // report leaves only with measurement too, a contribution only with model_improvement too.
        const reporting = consent.personalization && consent.measurement;
        const contributing = consent.personalization && consent.model_improvement;
        const expected = new Set([
          'GET /v1/model',
          'GET /.well-known/jwks.json',
          ...SDK_VERIFY.map((p) => `GET ${p}`), // a fresh device verifies its first model
          ...(consent.measurement || consent.model_improvement ? SDK_RELEASE.map((p) => `GET ${p}`) : []), // sending code, only with a purpose that sends
          ...(reporting ? ['POST /v1/reports'] : []),
          ...(contributing ? ['GET /v1/rounds/current', ...SDK_CONTRIBUTE.map((p) => `GET ${p}`), 'POST /v1/contributions'] : []),
        ]);
        expect([...apiCalls].sort()).toEqual([...expected].sort());
        if (reporting) {
          expect(reports).toHaveLength(1);
          expectAllowedReportBody(reports[0]?.body as string, 4);
        } else {
          expect(reports).toHaveLength(0);
        }
        if (contributing) {
          expect(contributions).toHaveLength(1);
          expect(contributions[0]?.method).toBe('POST');
          const body = contributions[0]?.body as string;
          expectAllowedContributionBody(body, round);
          // The leader holds it: the same body again is a replay.
          expect((await fetch(`${base}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(409);
        } else {
          expect(contributions).toHaveLength(0);
        }
        expect(errors).toEqual([]);
        const counts = await idbCounts(page);
        expect(counts.events).toBe(consent.personalization ? 6 : 0);
        expect(counts.outbox).toBe(0);
        expect(counts.ledger).toBe(2 * Number(reporting) + Number(contributing)); // segment and lifecycle report; contribution
      } finally {
        await browser.close();
      }
    });
  }
});

describe('Global Privacy Control', () => {
  it('lets nothing but the model fetch leave, whatever consent.set says', async () => {
    const browser = await launchChromium();
    try {
      await browser.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      await openDemo(page, base);
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.set({ personalization: true, measurement: true, model_improvement: true }));
      await finishTitles(page, ['sb-001', 'sb-002', 'sb-003']);
      await flush(page);
      await openDemo(page, base);
      await flush(page);
      expectOnlyPageAndModel(seen);
      const effective = await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.get());
      expect(effective).toEqual({ personalization: true, measurement: false, model_improvement: false });
      expect(await page.isChecked('#measurement')).toBe(false);
    } finally {
      await browser.close();
    }
  });
});

describe('withdrawal', () => {
  it('in another tab takes effect at once: queued reports are deleted and nothing is sent', async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const demo = await browser.context.newPage();
      await demo.route('**/v1/reports', (route) => route.abort()); // hold the report in the outbox
      await openDemo(demo, base);
      await demo.check('#measurement');
      await finishTitles(demo, ['sb-001', 'sb-002']);
      await flush(demo);
      expect((await idbCounts(demo)).outbox).toBe(2); // this week's segment and lifecycle reports

      const prefs = await browser.context.newPage();
      await prefs.goto(`${base}/preferences`);
      await prefs.waitForSelector('body[data-ready="true"]');
      await prefs.uncheck('#measurement');
      await prefs.locator('edgeseg-preferences #status', { hasText: 'Measurement is off.' }).waitFor(); // the withdrawal is stored
      expect((await idbCounts(prefs)).outbox).toBe(0);

      await demo.waitForFunction(() => !(window as unknown as DemoWindow).edgeseg.consent.get().measurement);
      expect(await demo.isChecked('#measurement')).toBe(false);
      const from = seen.length;
      await demo.unroute('**/v1/reports'); // the network is back: still nothing may leave
      await finishTitles(demo, ['sb-003']);
      await flush(demo);
      await demo.waitForTimeout(1500); // past the first retry of the aborted send
      expect(seen.slice(from).filter((r) => r.path === '/v1/reports')).toHaveLength(0);
      expect((await idbCounts(demo)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
