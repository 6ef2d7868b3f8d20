/**
 * Contributions under model_improvement in real Chromium against the real two-aggregator
 * stack: one per round and device across reloads, charged to the ledger, sealed to the
 * helper key the page pinned from the helper's own origin; withdrawn at once; refused when
 * a round names a helper key other than the one the signed model pins; and none at all,
 * with one helper-not-pinned error, when the app could not pin the helper's key.
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import { generateHpkeKeyPair } from '@edgeseg/shared/secure';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { ensureOpenRound, expectAllowedContributionBody, expectOnlyPageAndModel, finishTitles, flush, HELPER_KEY_FETCH, idbCounts, openDemo, recordRequests, SDK_CONTRIBUTE, type DemoWindow } from './demo-page.ts';

const base = inject('baseUrl');
let round: RoundDescriptor;

beforeAll(async () => {
  round = await ensureOpenRound(base, inject('authJwk'));
});

const ALL_ON = { personalization: true, measurement: false, model_improvement: true };

function edgesegErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.text().startsWith('[edgeseg]') && errors.push(m.text()));
  return errors;
}

async function ledgerOf(page: Page) {
  return page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger);
}

describe('contributions under model_improvement', () => {
  it('sends one per round and device, charged to the ledger, and none again after a reload', async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await openDemo(page, base);
      await finishTitles(page, ['sb-002', 'sb-007']); // features first, consent after: the grant checks the round
      const posted = page.waitForResponse((r) => r.url().endsWith('/v1/contributions'));
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), ALL_ON);
      expect((await posted).status()).toBe(202);
      await flush(page);
      const ledger = await ledgerOf(page);
      expect(ledger?.entries.map((e) => `${e.purpose} ${e.epsilon} ${e.release}`)).toEqual([`model_improvement ${round.epsilon} round ${round.round_id}`]);
      expect(ledger?.spentLast30Days.model_improvement).toBe(round.epsilon);
      expect(ledger?.cap.model_improvement).toBe(2); // the default device budget

      const from = seen.length;
      await openDemo(page, base); // a new session checks the round again, but this device already contributed
      await finishTitles(page, ['sb-003']);
      await flush(page);
      const after = seen.slice(from);
      expect(after.filter((r) => r.path === '/v1/rounds/current')).toHaveLength(1);
      expectOnlyPageAndModel(after, { modelImprovement: true });
      expect(after.some((r) => r.path === SDK_CONTRIBUTE[0])).toBe(false); // nothing to build: the chunk is not even loaded

      const contributions = seen.filter((r) => r.path === '/v1/contributions');
      expect(contributions).toHaveLength(1);
      expectAllowedContributionBody(contributions[0]?.body as string, round);
      // The pin came from the app's config and the helper's own origin, once per page load.
      const helperKeyFetches = seen.filter((r) => HELPER_KEY_FETCH.test(r.path));
      expect(seen.filter((r) => r.path === '/v1/stack')).toHaveLength(2);
      expect(helperKeyFetches).toHaveLength(2);
      const helperUrl = new URL(helperKeyFetches[0]?.path as string).origin;
      const published = (await (await fetch(`${helperUrl}/.well-known/hpke-configs`)).json()) as { helper: unknown };
      expect(round.hpke.helper).toEqual(published.helper);
      const lastSent = (await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.lastSent)) ?? {};
      expect(lastSent.model_improvement?.url).toBe(`${base}/v1/contributions`);
      expect(lastSent.model_improvement?.body).toEqual(JSON.parse(contributions[0]?.body as string));
      expect(errors).toEqual([]);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('withdrawal deletes a queued contribution at once, and nothing is sent afterwards', async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      await page.route('**/v1/contributions', (route) => route.abort('internetdisconnected')); // hold it in the outbox
      await openDemo(page, base);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), ALL_ON);
      await finishTitles(page, ['sb-001', 'sb-004']);
      await flush(page);
      expect((await idbCounts(page)).outbox).toBe(1);

      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.set({ model_improvement: false }));
      expect((await idbCounts(page)).outbox).toBe(0);
      const from = seen.length;
      await page.unroute('**/v1/contributions');
      await finishTitles(page, ['sb-005']);
      await flush(page);
      await page.waitForTimeout(1500); // past the first retry of the aborted send
      expect(seen.slice(from).filter((r) => r.path === '/v1/contributions' || r.path === '/v1/rounds/current')).toHaveLength(0);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('refuses a round whose helper key differs from the one pinned in the signed model: no contribution, an onError', async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      // The leader (or anyone on the path) offers its own key as the helper's, to open both shares.
      const { config: impostor } = await generateHpkeKeyPair(round.hpke.helper?.config_id ?? 2);
      await page.route('**/v1/rounds/current', async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as RoundDescriptor;
        await route.fulfill({ response: res, json: { ...body, hpke: { ...body.hpke, helper: { ...body.hpke.helper, public_key: impostor.public_key } } } });
      });
      await openDemo(page, base);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), ALL_ON);
      await finishTitles(page, ['sb-001', 'sb-006']);
      await flush(page);

      expect(seen.filter((r) => r.path === '/v1/contributions')).toHaveLength(0);
      expect(errors.some((e) => /pinned in the signed model/.test(e)), errors.join('\n')).toBe(true);
      expect((await ledgerOf(page))?.entries).toEqual([]); // nothing released, nothing charged
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it("contributes nothing when the app could not pin the helper's key (helper unreachable): one helper-not-pinned error, the page still personalizes and says why", async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      const pageNotes: string[] = [];
      page.on('console', (m) => m.text().startsWith('[streambox]') && pageNotes.push(m.text()));
      await page.route(HELPER_KEY_FETCH, (route) => route.abort('connectionrefused'));
      await openDemo(page, base);
      expect(await page.textContent('#helper-problem')).toMatch(/helper aggregator .* could not be reached.*nothing is contributed.*everything on this device still works/);
      expect(pageNotes).toHaveLength(1);
      await finishTitles(page, ['sb-001', 'sb-006']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), ALL_ON);
      await flush(page);
      await finishTitles(page, ['sb-003']); // another burst: still nothing, and no second error
      await flush(page);

      expect(await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.segment())).not.toBeNull();
      expect(seen.filter((r) => r.path === '/v1/contributions')).toHaveLength(0);
      expect(seen.some((r) => r.path === SDK_CONTRIBUTE[0])).toBe(false); // nothing to seal: the chunk is not even loaded
      expect(errors.filter((e) => /secure mode needs the helper's HPKE key from the app \(aggregators\.helper/.test(e)), errors.join('\n')).toHaveLength(1);
      expect(errors).toHaveLength(1);
      expect((await ledgerOf(page))?.entries).toEqual([]);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
