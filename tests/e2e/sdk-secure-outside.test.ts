/**
 * The SDK from the outside on a two-aggregator stack whose signed model counts securely
 * (`measurement: 'secure'`), as real apps run it: a host page on another origin that
 * imports the SDK as an ES module from the stack's `/sdk/<version>/`, and the packed npm
 * package bundled with code splitting into a throwaway app on its own origin. Each app
 * pins the helper's HPKE key in its own configuration, grants measurement and tracks
 * viewing; the SDK then contributes the week's segment to the week's counts round. The
 * contribution chunk (Prio3 and HPKE) comes cross-origin from the endpoint in the first
 * app and from the app's own bundle in the second. The leader takes the contribution
 * (202) and the helper verifies its Prio3 proof in the preparation exchange: the report
 * is summed on both sides and none is rejected. Every request is audited, so anything
 * else leaving fails the test.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { isoWeekPeriod, type HpkeConfig, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_BASE } from '../support/built-sdk.ts';
import { launchChromium } from '../support/chromium.ts';
import { startHostOrigin, type HostOrigin } from '../support/host-origin.ts';
import { verifiedModel } from '../support/model.ts';
import { bundleApp, createThrowawayApp, type ThrowawayApp, type ThrowawayAppWindow } from '../support/npm-app.ts';
import { waitForVerdicts } from '../support/round-storage.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { finishedTitleEvents } from './catalogue-events.ts';
import { SDK_CONTRIBUTE } from './demo-page.ts';
import { contributionsOf, expectOnlyCountsTraffic, expectServedCrossOrigin, recordOutsideTraffic, type OutsideTraffic } from './outside-traffic.ts';

/** Two finished titles of the demo catalogue as playback events (play + complete each). */
const EVENTS = finishedTitleEvents(2);

let stack: RunningStack;
let manifest: ModelManifest;
/** The helper's key as its own origin publishes it: what each app pins. */
let helper: HpkeConfig;
const hosts: HostOrigin[] = [];
let app: ThrowawayApp | undefined;

beforeAll(async () => {
  stack = await startStack({ MEASUREMENT: 'secure', K_THRESHOLD: '1' });
  manifest = await verifiedModel(stack.baseUrl);
  helper = ((await (await fetch(`${stack.helperUrl}/.well-known/hpke-configs`)).json()) as { helper: HpkeConfig }).helper;
}, 120_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  app?.remove();
  await stack?.stop();
});

/** The host page that imports the SDK as an ES module from the endpoint, with the helper's key pinned. */
function modulePage(sdk: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Host app (secure counts)</title></head>
<body>
<script type="module">
  import { createSegmenter } from '${sdk}/edgeseg.min.js';
  window.errors = [];
  const seg = createSegmenter({
    endpoint: '${stack.baseUrl}',
    aggregators: { helper: ${JSON.stringify(helper)} },
    onError: (e) => window.errors.push(e.code + ' ' + e.stage + ': ' + e.message),
  });
  window.seg = seg;
  await seg.ready;
  for (const event of ${JSON.stringify(EVENTS)}) seg.track(event);
  await seg.consent.set({ personalization: true, measurement: true });
  await seg.flush();
  document.body.dataset.ready = 'true';
</script></body></html>`;
}

type HostWindow = Window & { seg: { segment(): unknown; flush(): Promise<void> }; errors: string[] };

/** Uncaught errors and console errors of `page`. */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

/**
 * Checks what the app contributed: at least one contribution, each answered 202, among
 * them this week's segment counts round of the signed model (secure, listed open by the
 * leader: a week is released only once it is over); then waits for the helper's verdict
 * on each and checks it verified every one (summed on both sides, none rejected).
 */
async function expectContributedAndVerified(traffic: OutsideTraffic): Promise<void> {
  const contributions = contributionsOf(traffic);
  expect(contributions.length).toBeGreaterThan(0);
  for (const c of contributions) expect(c.status, `POST /v1/contributions for ${c.contribution.round_id}`).toBe(202);
  const rounds = contributions.map((c) => traffic.rounds.get(c.contribution.round_id) as RoundDescriptor);
  // The segment's round: counts rounds of other measures name theirs in `measure`.
  const segmentRound = rounds.find((r) => r.kind === 'counts' && (r as { measure?: string }).measure === undefined);
  expect(segmentRound).toMatchObject({ kind: 'counts', mode: 'secure', period: isoWeekPeriod(Date.now()), model_version: manifest.version });
  expect(contributions.filter((c) => c.contribution.round_id === segmentRound?.round_id)).toHaveLength(1);

  const listed = ((await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] }).rounds;
  for (const round of new Set(rounds)) {
    expect(listed.find((r) => r.round_id === round.round_id)).toMatchObject({ kind: 'counts', mode: 'secure', state: 'open' });
    const ids = contributions.filter((c) => c.contribution.round_id === round.round_id).map((c) => c.contribution.id);
    const { leader, helper: helperSide } = await waitForVerdicts(stack, round.round_id, ids);
    expect(leader.rejected, `${round.round_id}: reports whose Prio3 proof the helper rejected`).toEqual([]);
    expect(leader.pending).toEqual([]);
    for (const id of ids) {
      expect(leader.verified, `${round.round_id}: the leader summed ${id} once the helper verified it`).toContain(id);
      expect(helperSide.verified, `${round.round_id}: the helper stored ${id} as verified`).toContain(id);
    }
  }
}

describe('secure counts from apps on other origins', () => {
  it('the signed model counts securely and pins the helper key the helper publishes', () => {
    expect(manifest.measurement).toBe('secure');
    expect(manifest.aggregators?.helper).toEqual(helper);
  });

  it('a host page that imports the SDK from /sdk/<version>/: the contribution chunk loads cross-origin, the contribution is accepted and its proof verified', { timeout: 90_000 }, async () => {
    const sdk = `${stack.baseUrl}${SDK_BASE}`;
    const host = await startHostOrigin({ '/': { type: 'text/html; charset=utf-8', body: modulePage(sdk) } });
    hosts.push(host);
    expect(new URL(host.origin).origin).not.toBe(new URL(stack.baseUrl).origin);

    const browser = await launchChromium();
    try {
      const traffic = recordOutsideTraffic(browser.context, stack.baseUrl);
      const sdkResponses: Response[] = [];
      browser.context.on('response', (r) => r.url().startsWith(`${stack.baseUrl}/sdk/`) && sdkResponses.push(r));
      const page = await browser.context.newPage();
      const errors = pageErrors(page);
      const posted = page.waitForResponse((r) => r.url() === `${stack.baseUrl}/v1/contributions`);
      await page.goto(`${host.origin}/`);
      expect((await posted).status()).toBe(202);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.waitForFunction(() => (window as unknown as HostWindow).seg.segment() !== null);
      await page.evaluate(() => (window as unknown as HostWindow).seg.flush());
      await traffic.settle();

      expect(await page.evaluate(() => location.origin)).toBe(host.origin);
      expect(await page.evaluate(() => (window as unknown as HostWindow).errors)).toEqual([]);
      expect(errors).toEqual([]);
      // The contribution chunk and the shared chunks it adds came from the endpoint's versioned folder, cross-origin.
      const fetched = sdkResponses.map((r) => new URL(r.url()).pathname);
      for (const p of SDK_CONTRIBUTE) expect(fetched).toContain(p);
      await expectServedCrossOrigin(sdkResponses);
      expectOnlyCountsTraffic(traffic, { app: host.origin, endpoint: stack.baseUrl, sdkFromEndpoint: true });
      await expectContributedAndVerified(traffic);
    } finally {
      await browser.close();
    }
  });

  it('the packed npm package bundled into an app (splitting): the Prio3 chunk comes from the app’s own origin, no code from the endpoint, the contribution is accepted and verified', { timeout: 120_000 }, async () => {
    app = createThrowawayApp(EVENTS);
    const bundled = await bundleApp(app, { endpoint: stack.baseUrl, helper });
    const contributeChunks = bundled.outputsOf('contribute.min.js');
    expect(contributeChunks.length).toBeGreaterThan(0);
    expect(contributeChunks).not.toContain('/app.js'); // split out: loaded only when the device contributes
    const host = await startHostOrigin(bundled.files);
    hosts.push(host);

    const browser = await launchChromium();
    try {
      const traffic = recordOutsideTraffic(browser.context, stack.baseUrl);
      const page = await browser.context.newPage();
      const errors = pageErrors(page);
      const posted = page.waitForResponse((r) => r.url() === `${stack.baseUrl}/v1/contributions`);
      await page.goto(`${host.origin}/`);
      expect((await posted).status()).toBe(202);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.waitForFunction(() => (window as unknown as ThrowawayAppWindow).app.seg.segment() !== null);
      await page.evaluate(() => (window as unknown as ThrowawayAppWindow).app.seg.flush());
      await traffic.settle();

      expect(await page.evaluate(() => (window as unknown as ThrowawayAppWindow).app.errors)).toEqual([]);
      expect(errors).toEqual([]);
      for (const chunk of contributeChunks) expect(host.requested, 'the contribution chunk, from the app’s own origin').toContain(chunk);
      expectOnlyCountsTraffic(traffic, { app: host.origin, endpoint: stack.baseUrl, sdkFromEndpoint: false });
      await expectContributedAndVerified(traffic);
    } finally {
      await browser.close();
    }
  });
});
