/**
 * Secure segment counts in real Chromium against its own two-aggregator stack whose
 * signed model says `measurement: 'secure'`: with measurement granted, the SDK sends no
 * randomized report; it contributes the week's segment to the week's counts round (a
 * secret-shared one-hot, sealed in the contribution chunk) once per week, charged to the
 * measurement ledger; withdrawal deletes it while queued; and nothing else leaves.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { isoWeekPeriod, type RoundDescriptor } from '@edgeseg/shared';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectAllowedContributionBody, expectAllowedReportBody, expectOnlyPageAndModel, finishTitles, flush, idbCounts, openDemo, SDK_CONTRIBUTE, SDK_CONTRIBUTE_LOCAL, type DemoWindow, type Seen } from './demo-page.ts';

let stack: RunningStack;
let base: string;
let admin: string;
let round: RoundDescriptor;

beforeAll(async () => {
  stack = await startStack({ MEASUREMENT: 'secure', K_THRESHOLD: '1' });
  base = stack.baseUrl;
  admin = await mintToken(stack.authJwk, { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const MEASUREMENT_ONLY = { personalization: true, measurement: true, model_improvement: false };

/** Every request of `context`, its path with the query (to tell `?kind=counts` apart). */
function record(context: FreshContext['context']): (Seen & { query: string })[] {
  const seen: (Seen & { query: string })[] = [];
  context.on('request', (r) => {
    const url = new URL(r.url());
    seen.push({ method: r.method(), path: url.origin === base ? url.pathname : url.href, query: url.search, body: r.postData() });
  });
  return seen;
}

function edgesegErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.text().startsWith('[edgeseg]') && errors.push(m.text()));
  return errors;
}

async function listedRound(id: string): Promise<PublicRound | undefined> {
  return ((await (await fetch(`${base}/v1/rounds`)).json()) as { rounds: PublicRound[] }).rounds.find((r) => r.round_id === id);
}

async function grrReportsThisWeek(): Promise<number> {
  const res = await fetch(`${base}/v1/admin/periods/${isoWeekPeriod(Date.now())}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reports: number }).reports;
}

describe('secure segment counts under measurement', () => {
  it('contributes the week’s segment to the week’s counts round once, sends no randomized report, and the leader accepted it', { timeout: 90_000 }, async () => {
    const browser = await launchChromium();
    try {
      const seen = record(browser.context);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await openDemo(page, base);
      await finishTitles(page, ['sb-002', 'sb-007']);
      await flush(page);
      expectOnlyPageAndModel(seen); // nothing but the page and the model before consent

      const from = seen.length;
      const posted = page.waitForResponse((r) => r.url().endsWith('/v1/contributions'));
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      expect((await posted).status()).toBe(202);
      await flush(page);

      // The round the SDK contributed to is this week's counts round of the model it holds.
      const current = await fetch(`${base}/v1/rounds/current?kind=counts`);
      expect(current.status).toBe(200);
      round = (await current.json()) as RoundDescriptor;
      expect(round).toMatchObject({ kind: 'counts', mode: 'secure', period: isoWeekPeriod(Date.now()) });

      const after = seen.slice(from);
      const contributions = after.filter((r) => r.path === '/v1/contributions');
      expect(contributions).toHaveLength(1);
      expect(contributions[0]?.method).toBe('POST');
      expectAllowedContributionBody(contributions[0]?.body as string, round);
      // Under measurement only: the counts round (never the k-means one), the chunk, the
      // contribution, and the week's randomized lifecycle report (lifecycle shares are GRR
      // in both modes); no randomized segment report.
      const reports = after.filter((r) => r.path === '/v1/reports');
      expect(reports).toHaveLength(1);
      expect(reports[0]?.method).toBe('POST');
      expectAllowedReportBody(reports[0]?.body as string, 4, { segment: false });
      const gets = after.filter((r) => r.path !== '/v1/contributions' && r.path !== '/v1/reports');
      expect(gets.filter((r) => r.path === '/v1/rounds/current').map((r) => r.query)).toEqual(['?kind=counts']);
      expect(gets.filter((r) => r.path === SDK_CONTRIBUTE[0])).toHaveLength(1);
      expectOnlyPageAndModel(gets.filter((r) => r.path !== '/v1/rounds/current' && !SDK_CONTRIBUTE.includes(r.path)));
      expect(seen.filter((r) => SDK_CONTRIBUTE_LOCAL.includes(r.path))).toEqual([]);

      const exported = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData()) ?? null);
      const lifecycleEpsilon = 0.05; // the bootstrap model's epsilon.lifecycle
      expect(exported?.privacyLedger.entries.map((e) => `${e.purpose} ${e.epsilon} ${e.release}`).sort()).toEqual([`measurement ${round.epsilon} counts ${round.period}`, `measurement ${lifecycleEpsilon} lifecycle ${round.period}`].sort());
      // "What leaves this device" shows the last of the two bodies sent under measurement.
      const sent = [
        { url: `${base}/v1/contributions`, body: JSON.parse(contributions[0]?.body as string) as unknown },
        { url: `${base}/v1/reports`, body: JSON.parse(reports[0]?.body as string) as unknown },
      ];
      expect(sent).toContainEqual({ url: exported?.lastSent.measurement?.url, body: exported?.lastSent.measurement?.body });
      expect(exported?.lastSent.model_improvement).toBeUndefined();

      // The leader lists the round open (a week is never released while open) and has this
      // contribution: the same id again is a replay.
      expect(await listedRound(round.round_id)).toMatchObject({ kind: 'counts', state: 'open' });
      const replay = await fetch(`${base}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: contributions[0]?.body as string });
      expect(replay.status).toBe(409);
      expect(await grrReportsThisWeek()).toBe(0);

      // A new session in the same week: no second look for the round, nothing sent.
      const again = seen.length;
      await openDemo(page, base);
      await finishTitles(page, ['sb-003']);
      await flush(page);
      const later = seen.slice(again);
      expectOnlyPageAndModel(later);
      expect(errors).toEqual([]);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('withdrawing measurement deletes a queued counts contribution at once; nothing is sent afterwards', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const seen = record(browser.context);
      const page = await browser.context.newPage();
      await page.route('**/v1/contributions', (route) => route.abort('internetdisconnected')); // hold it in the outbox
      await openDemo(page, base);
      await finishTitles(page, ['sb-001', 'sb-004']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      await flush(page);
      expect((await idbCounts(page)).outbox).toBe(1);

      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.set({ measurement: false }));
      expect((await idbCounts(page)).outbox).toBe(0);
      const from = seen.length;
      await page.unroute('**/v1/contributions');
      await finishTitles(page, ['sb-005']);
      await flush(page);
      await page.waitForTimeout(1500); // past the first retry of the aborted send
      expectOnlyPageAndModel(seen.slice(from));
      expect((await idbCounts(page)).outbox).toBe(0);
      expect(await grrReportsThisWeek()).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('refuses a counts round that names a helper key other than the one the signed model pins: nothing sent, nothing charged', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const seen = record(browser.context);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await page.route('**/v1/rounds/current?kind=counts', async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as RoundDescriptor;
        await route.fulfill({ response: res, json: { ...body, hpke: { ...body.hpke, helper: body.hpke.leader } } }); // the leader's key as the helper's
      });
      await openDemo(page, base);
      await finishTitles(page, ['sb-001', 'sb-006']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      await flush(page);
      expect(seen.some((r) => r.path === '/v1/rounds/current' && r.query === '?kind=counts')).toBe(true);
      // No contribution and no charge for it; only the week's lifecycle report (GRR, not sealed to any aggregator) leaves.
      expect(seen.filter((r) => r.path === '/v1/contributions')).toEqual([]);
      const reports = seen.filter((r) => r.path === '/v1/reports');
      expect(reports).toHaveLength(1);
      expectAllowedReportBody(reports[0]?.body as string, 4, { segment: false });
      expect(errors.some((e) => /pinned in the signed model/.test(e)), errors.join('\n')).toBe(true);
      const entries = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger.entries);
      expect(entries?.map((e) => e.release)).toEqual([`lifecycle ${isoWeekPeriod(Date.now())}`]);
    } finally {
      await browser.close();
    }
  });
});
