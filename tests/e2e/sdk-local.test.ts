/**
 * Local-mode rounds (single operator) in real Chromium against a real single-operator
 * stack (the leader without HELPER_URL: its model pins no aggregators, /v1/stack names no
 * helper): the SDK loads the local chunk (never the HPKE one), adds its own exact discrete
 * Gaussian noise and posts `{ round_id, id, slice, group, noised }` once under
 * model_improvement; the leader takes it; a round whose σ² is too small for its ε is
 * refused on the device, and so is any local round once the app pins a helper.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import type { RoundDescriptor } from '@edgeseg/shared';
import { generateHpkeKeyPair, parseLocalContribution, vectorLength } from '@edgeseg/shared/secure';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';
import { openRound } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectOnlyPageAndModel, finishTitles, flush, idbCounts, openDemo, recordRequests, SDK_CONTRIBUTE, SDK_CONTRIBUTE_LOCAL, type DemoWindow } from './demo-page.ts';

let stack: RunningStack;
let base: string;
let round: RoundDescriptor;

beforeAll(async () => {
  // Its own stack: an open local round would be the k-means round of every other test on
  // the shared one. No HELPER_URL: a device refuses local rounds wherever a helper is pinned.
  stack = await startStack({ K_THRESHOLD: '1', HELPER_URL: '' });
  base = stack.baseUrl;
  const admin = await mintToken(stack.authJwk, { role: 'admin' });
  round = await openRound(base, admin, { mode: 'local', duration_s: 3600, min_batch: 2, epsilon: 2, delta: 1e-9, groups: 2 });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const IMPROVE = { personalization: true, measurement: false, model_improvement: true };

function edgesegErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.text().startsWith('[edgeseg]') && errors.push(m.text()));
  return errors;
}

describe('local-mode rounds', () => {
  it('the device noises its own vector and posts it once, from the local chunk only; the leader has it', { timeout: 90_000 }, async () => {
    expect(round).toMatchObject({ mode: 'local', kind: 'kmeans' });
    expect(round.hpke.helper).toBeUndefined();
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await openDemo(page, base);
      await finishTitles(page, ['sb-002', 'sb-007']);
      const posted = page.waitForResponse((r) => r.url().endsWith('/v1/contributions'));
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), IMPROVE);
      expect((await posted).status()).toBe(202);
      await flush(page);

      const contributions = seen.filter((r) => r.path === '/v1/contributions');
      expect(contributions).toHaveLength(1);
      const raw = contributions[0]?.body as string;
      const body = JSON.parse(raw) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['id', 'noised', 'round_id', 'slice']);
      const parsed = parseLocalContribution(body, vectorLength('kmeans', round.k, round.d));
      expect(parsed.ok ? [] : parsed.errors).toEqual([]);
      expect(body.round_id).toBe(round.round_id);
      expect(Number(body.slice)).toBeLessThan(round.slices.length);
      // Noise of σ ≈ √local_sigma2 on every entry: hardly any entry is still exactly 0.
      const noised = body.noised as number[];
      expect(noised.filter((v) => v === 0).length).toBeLessThan(noised.length / 10);

      expect(seen.filter((r) => r.path === SDK_CONTRIBUTE_LOCAL[0])).toHaveLength(1);
      expect(seen.filter((r) => r.path === SDK_CONTRIBUTE[0])).toEqual([]); // no HPKE on a local-mode device
      expectOnlyPageAndModel(
        seen.filter((r) => r.path !== '/v1/contributions' && !SDK_CONTRIBUTE_LOCAL.includes(r.path)),
        { modelImprovement: true },
      );
      const ledger = await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger);
      expect(ledger?.entries.map((e) => `${e.purpose} ${e.epsilon} ${e.release}`)).toEqual([`model_improvement ${round.epsilon} round ${round.round_id}`]);

      const { rounds } = (await (await fetch(`${base}/v1/rounds`)).json()) as { rounds: PublicRound[] };
      expect(rounds.find((r) => r.round_id === round.round_id)).toMatchObject({ state: 'open' });
      const replay = await fetch(`${base}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
      expect(replay.status).toBe(409); // the leader already holds this contribution

      const from = seen.length;
      await openDemo(page, base); // a new session: the round is checked again, but nothing is built or sent
      await finishTitles(page, ['sb-003']);
      await flush(page);
      expectOnlyPageAndModel(seen.slice(from), { modelImprovement: true });
      expect(seen.slice(from).some((r) => SDK_CONTRIBUTE_LOCAL.includes(r.path))).toBe(false);
      expect(errors).toEqual([]);
      expect((await idbCounts(page)).outbox).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('refuses a local round whose σ² is too small for the ε it charges: nothing sent, nothing charged', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await page.route('**/v1/rounds/current', async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as RoundDescriptor;
        await route.fulfill({ response: res, json: { ...body, local_sigma2: (body.local_sigma2 as number) / 4 } });
      });
      await openDemo(page, base);
      await finishTitles(page, ['sb-001', 'sb-006']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), IMPROVE);
      await flush(page);
      expect(seen.filter((r) => r.path === SDK_CONTRIBUTE_LOCAL[0])).toHaveLength(1);
      expect(seen.filter((r) => r.path === '/v1/contributions')).toEqual([]);
      expect(errors.some((e) => /too little noise for ε = 2/.test(e)), errors.join('\n')).toBe(true);
      expect((await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger.entries)) ?? null).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('refuses the local round once the app pins a helper (as the demo does when its config names one): nothing sent, nothing charged', { timeout: 60_000 }, async () => {
    const { config } = await generateHpkeKeyPair(2);
    // Both answers below stand in for a helper's. This single-operator stack names no helper,
    // so its pages' CSP allows no other origin: the stand-in answers on the page's own.
    const helperUrl = base;
    const browser = await launchChromium();
    try {
      const seen = recordRequests(browser.context, base);
      const page = await browser.context.newPage();
      const errors = edgesegErrors(page);
      await page.route('**/v1/stack', (route) => route.fulfill({ json: { helper_url: helperUrl } }));
      await page.route(`${helperUrl}/.well-known/hpke-configs`, (route) => route.fulfill({ json: { helper: config, keys: { helper: [config] } } }));
      await openDemo(page, base);
      expect(await page.locator('#helper-problem').count()).toBe(0); // pinned: nothing to say
      await finishTitles(page, ['sb-002', 'sb-005']);
      await page.evaluate((c) => (window as unknown as DemoWindow).edgeseg.consent.set(c), IMPROVE);
      await flush(page);
      expect(seen.filter((r) => r.path === '/v1/contributions')).toEqual([]);
      expect(errors.filter((e) => /is a local-mode round, but the app pins a helper/.test(e)), errors.join('\n')).toHaveLength(1);
      expect((await page.evaluate(async () => (await (window as unknown as DemoWindow).edgeseg.exportData())?.privacyLedger.entries)) ?? null).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
