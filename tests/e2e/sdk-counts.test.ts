/**
 * Secure counts in real Chromium against its own two-aggregator stack whose signed model
 * says `measurement: 'secure'`: with measurement granted, the SDK sends no randomized
 * report (no `/v1/reports`, no `/v1/impressions`); it contributes the week's segment and
 * lifecycle stage, and once the model has campaigns last week's impression, each to its
 * own counts round (a secret-shared one-hot, sealed in the contribution chunk) once per
 * week, charged to the measurement ledger; withdrawal deletes them while queued; and
 * nothing else leaves.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { countsPeriod, isoWeekPeriod, LIFECYCLE_STAGES, type RoundDescriptor } from '@edgeseg/shared';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectAllowedContributionBody, expectOnlyPageAndModel, finishTitles, flush, idbCounts, openDemo, SDK_CONTRIBUTE, SDK_CONTRIBUTE_LOCAL, type DemoWindow, type Seen } from './demo-page.ts';

let stack: RunningStack;
let base: string;
let admin: string;

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

/** The open counts round of `query` (`?kind=counts`, `&measure=…`) the leader serves now. */
async function currentRound(query: string): Promise<RoundDescriptor> {
  const res = await fetch(`${base}/v1/rounds/current${query}`);
  expect(res.status, query).toBe(200);
  return (await res.json()) as RoundDescriptor;
}

const SEGMENT_QUERY = '?kind=counts';
const LIFECYCLE_QUERY = '?kind=counts&measure=lifecycle';
const IMPRESSIONS_QUERY = '?kind=counts&measure=impressions';

/** Waits until `seen` holds `n` contribution POSTs (each is sent as its round is joined, one after another). */
async function contributionsSent(seen: readonly Seen[], n: number): Promise<Seen[]> {
  await expect.poll(() => seen.filter((r) => r.path === '/v1/contributions').length, { timeout: 20_000 }).toBe(n);
  return seen.filter((r) => r.path === '/v1/contributions');
}

describe('secure counts under measurement', () => {
  it('contributes the week’s segment and lifecycle stage to their counts rounds once, sends no randomized report, and the leader accepted both', { timeout: 90_000 }, async () => {
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
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      await flush(page);
      const contributions = await contributionsSent(seen, 2);
      await flush(page);

      // The rounds the SDK contributed to are this week's segment and lifecycle counts rounds of the model it holds.
      const week = isoWeekPeriod(Date.now());
      const segmentRound = await currentRound(SEGMENT_QUERY);
      const lifecycleRound = await currentRound(LIFECYCLE_QUERY);
      expect(segmentRound).toMatchObject({ kind: 'counts', mode: 'secure', period: week });
      expect(segmentRound.measure).toBeUndefined();
      expect(lifecycleRound).toMatchObject({ kind: 'counts', mode: 'secure', period: week, measure: 'lifecycle', k: LIFECYCLE_STAGES.length });

      const after = seen.slice(from);
      expect(contributions.every((r) => r.method === 'POST')).toBe(true);
      const bodies = contributions.map((r) => JSON.parse(r.body as string) as { round_id: string });
      expect(bodies.map((b) => b.round_id).sort()).toEqual([segmentRound.round_id, lifecycleRound.round_id].sort());
      for (const r of contributions) expectAllowedContributionBody(r.body as string, [segmentRound, lifecycleRound].find((x) => (r.body as string).includes(`"${x.round_id}"`)) as RoundDescriptor);
      // Under measurement only: the two counts rounds (never the k-means one, no impressions
      // round: the model has no campaigns), the chunk and the contributions; no randomized
      // segment, lifecycle or impression report.
      expect(after.filter((r) => r.path === '/v1/reports' || r.path === '/v1/impressions')).toEqual([]);
      const gets = after.filter((r) => r.path !== '/v1/contributions');
      expect(gets.filter((r) => r.path === '/v1/rounds/current').map((r) => r.query).sort()).toEqual([SEGMENT_QUERY, LIFECYCLE_QUERY].sort());
      expect(gets.filter((r) => r.path === SDK_CONTRIBUTE[0])).toHaveLength(1);
      expectOnlyPageAndModel(gets.filter((r) => r.path !== '/v1/rounds/current' && !SDK_CONTRIBUTE.includes(r.path)));
      expect(seen.filter((r) => SDK_CONTRIBUTE_LOCAL.includes(r.path))).toEqual([]);

      const exported = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData()) ?? null);
      expect(exported?.privacyLedger.entries.map((e) => `${e.purpose} ${e.epsilon} ${e.release}`).sort()).toEqual(
        [`measurement ${segmentRound.epsilon} counts ${week}`, `measurement ${lifecycleRound.epsilon} lifecycle counts ${week}`].sort(),
      );
      // "What leaves this device" shows the last of the bodies sent under measurement.
      const sent = contributions.map((r) => ({ url: `${base}/v1/contributions`, body: JSON.parse(r.body as string) as unknown }));
      expect(sent).toContainEqual({ url: exported?.lastSent.measurement?.url, body: exported?.lastSent.measurement?.body });
      expect(exported?.lastSent.model_improvement).toBeUndefined();

      // The leader lists both rounds open (a week is never released while open) and has
      // these contributions: the same id again is a replay.
      for (const r of [segmentRound, lifecycleRound]) expect(await listedRound(r.round_id)).toMatchObject({ kind: 'counts', state: 'open' });
      for (const r of contributions) {
        const replay = await fetch(`${base}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body as string });
        expect(replay.status).toBe(409);
      }
      expect(await grrReportsThisWeek()).toBe(0);

      // A new session in the same week: no second look for the rounds, nothing sent.
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

  it('withdrawing measurement deletes the queued counts contributions at once; nothing is sent afterwards', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const seen = record(browser.context);
      const page = await browser.context.newPage();
      await page.route('**/v1/contributions', (route) => route.abort('internetdisconnected')); // hold it in the outbox
      await openDemo(page, base);
      await finishTitles(page, ['sb-001', 'sb-004']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      await flush(page);
      expect((await idbCounts(page)).outbox).toBe(2); // the segment and lifecycle counts contributions

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

  it('refuses a counts round that names a helper key other than the one the signed model pins: nothing sent or charged for it; the other measure is counted as usual', { timeout: 60_000 }, async () => {
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
      expect(seen.some((r) => r.path === '/v1/rounds/current' && r.query === SEGMENT_QUERY)).toBe(true);
      // No segment contribution and no charge for it; only the lifecycle counts contribution (its round untouched) leaves.
      const [lifecycle] = await contributionsSent(seen, 1);
      const lifecycleRound = await currentRound(LIFECYCLE_QUERY);
      expectAllowedContributionBody(lifecycle?.body as string, lifecycleRound);
      expect(seen.filter((r) => r.path === '/v1/reports' || r.path === '/v1/impressions')).toEqual([]);
      expect(errors.some((e) => /pinned in the signed model/.test(e)), errors.join('\n')).toBe(true);
      const entries = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger.entries);
      expect(entries?.map((e) => e.release)).toEqual([`lifecycle counts ${isoWeekPeriod(Date.now())}`]);
    } finally {
      await browser.close();
    }
  });

  it('once the model has campaigns, also counts last week’s impression in its own round (“none”: nothing was shown), once a week, with no /v1/impressions', { timeout: 90_000 }, async () => {
    // Last of this file's tests: the campaign republishes the stack's model for all that follows.
    const marketer = await mintToken(stack.authJwk, { role: 'marketer' });
    const created = await fetch(`${base}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${marketer}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'welcome-back', segment: 0, kind: 'message', title: 'Welcome back' }) });
    expect(created.status).toBe(201);
    const browser = await launchChromium();
    try {
      const seen = record(browser.context);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await openDemo(page, base);
      await finishTitles(page, ['sb-002', 'sb-004']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), MEASUREMENT_ONLY);
      await flush(page);
      const contributions = await contributionsSent(seen, 3);
      await flush(page);

      const rounds = await Promise.all([SEGMENT_QUERY, LIFECYCLE_QUERY, IMPRESSIONS_QUERY].map(currentRound));
      const impressions = rounds[2] as RoundDescriptor;
      const lastWeek = countsPeriod('impressions', Date.now());
      expect(impressions).toMatchObject({ kind: 'counts', mode: 'secure', measure: 'impressions', period: lastWeek, k: 1 });
      const byRound = new Map(contributions.map((r) => [(JSON.parse(r.body as string) as { round_id: string }).round_id, r.body as string]));
      expect([...byRound.keys()].sort()).toEqual(rounds.map((r) => r.round_id).sort());
      for (const r of rounds) expectAllowedContributionBody(byRound.get(r.round_id) as string, r);
      expect(seen.filter((r) => r.path === '/v1/reports' || r.path === '/v1/impressions')).toEqual([]);
      expect(seen.filter((r) => r.path === '/v1/rounds/current').map((r) => r.query).sort()).toEqual([SEGMENT_QUERY, LIFECYCLE_QUERY, IMPRESSIONS_QUERY].sort());
      const entries = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger.entries);
      expect(entries?.map((e) => `${e.purpose} ${e.epsilon} ${e.release}`)).toContain(`measurement ${impressions.epsilon} impression counts ${lastWeek}`);
      expect(entries).toHaveLength(3);

      // Shown something now, and a new session: this week's impressions are next week's count; nothing more leaves this week.
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.campaignShown('welcome-back'));
      const again = seen.length;
      await openDemo(page, base);
      await finishTitles(page, ['sb-003']);
      await flush(page);
      expectOnlyPageAndModel(seen.slice(again));
      expect(errors).toEqual([]);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
