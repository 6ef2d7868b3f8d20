/**
 * /dashboard in Chromium against its own stack (campaign edits and a released round
 * publish new model versions, which the shared stack's other tests must not see):
 * sign-in, segments with generated profiles, history chart, lifecycle shares and their
 * trend, rounds, both privacy ledgers side by side (the helper's verified in the page, a
 * lying leader flagged, an unreachable or forged helper ledger said plainly), CSV
 * export, campaign create/delete through the form, a campaign reaching a device in its
 * segment (and not one in another), sign-out, axe-core and a screenshot.
 */
import { describeCentroid, grrEncode, latestReleasablePeriod, LIFECYCLE_STAGES, lifecycleEpsilon, lifecycleReportValue, parseManifest, periodsUpTo, seededRandom, type LifecycleStage, type ModelManifest } from '@edgeseg/shared';
import { buildSecureContribution } from '@edgeseg/shared/secure';
import { compactVerify, createLocalJWKSet } from 'jose';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';
import { closeRoundAndWait, openRound } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { axeViolations } from './axe.ts';
import { CATALOGUE, weekdayAfternoon, type DemoWindow } from './demo-page.ts';

const SCREENSHOT = new URL('../screenshots/dashboard.png', import.meta.url).pathname;

let stack: RunningStack;
let browser: FreshContext;
let page: Page;
let marketer: string;
let releasedRound: string;
/** Lifecycle reports sent per backfilled week. */
let lifecycleSent: Map<string, number>;
/** Devices in the secure round the test releases (under its noise floor: it keeps every centroid). */
const RELEASED_DEVICES = 12;
/** Each campaign edit publishes a model and reloads the page's panels: allow a busy machine time. */
const POLL = { timeout: 20_000, interval: 250 };

async function currentManifest(): Promise<ModelManifest> {
  const jws = await (await fetch(`${stack.baseUrl}/v1/model`)).text();
  const parsed = parseManifest(JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

async function marketerGet(path: string, accept = 'application/json'): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${marketer}`, accept } });
}

/**
 * Releases one secure round of `n` devices at the model's centroids, so rounds and both
 * ledgers hold real data. The helper releases nothing before the round's close time, so
 * the round is short: the devices contribute, then the early close waits for it.
 */
async function releaseRound(admin: string, n: number): Promise<string> {
  const manifest = await currentManifest();
  const round = await openRound(stack.baseUrl, admin, { duration_s: 20, min_batch: n, epsilon: 4, groups: 1 });
  for (let i = 0; i < n; i++) {
    const x = Float32Array.from(manifest.centroids[i % manifest.k] as number[]);
    const { body } = await buildSecureContribution(round, x, `dashboard-${String(i).padStart(4, '0')}-${crypto.randomUUID().slice(0, 8)}`);
    const res = await fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    await res.body?.cancel();
  }
  const closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500 });
  expect(closed.state, closed.reason ?? '').toBe('released');
  return round.round_id;
}

/** The stage of backfilled device `i`: 20% new, 40% active, 20% at risk, 20% lapsed. */
const stageOf = (i: number): LifecycleStage => (['new', 'active', 'active', 'at_risk', 'lapsed'] as const)[i % 5] as LifecycleStage;

/**
 * Real randomized reports for the 11 newest of the dashboard's 12 weeks (the stack runs
 * with DEV_BACKFILL_WEEKS, as `npm start` does; the oldest week stays unreported on any
 * weekday, so its empty state is checked too), a growing audience tilted toward segment 0,
 * so the counts, intervals and trend have something to show; beside each segment report,
 * the device's lifecycle report, as the SDK sends them. Returns the lifecycle reports sent per week.
 */
async function backfillReports(manifest: ModelManifest): Promise<Map<string, number>> {
  const random = seededRandom(48);
  const lifecycleRandom = seededRandom(49); // its own stream, so the segment reports stay as they were
  const weeks = periodsUpTo(latestReleasablePeriod(Date.now()), 11);
  const lifecycleSent = new Map<string, number>();
  let n = 0;
  for (const [w, period] of weeks.entries()) {
    const devices = 200 + 25 * w;
    const segmentReports = Array.from({ length: devices }, (_, i) => {
      const truth = i % 10 < 5 ? 0 : i % manifest.k;
      return { id: `backfill-${String(++n).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`, model_version: manifest.version, period, value: grrEncode(truth, manifest.k, manifest.epsilon.report, random) };
    });
    const lifecycleReports = Array.from({ length: devices }, (_, i) => ({ id: `lifecycle-${String(++n).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`, model_version: manifest.version, period, value: lifecycleReportValue(manifest, stageOf(i), lifecycleRandom), kind: 'lifecycle' as const }));
    lifecycleSent.set(period, lifecycleReports.length);
    const reports = [...segmentReports, ...lifecycleReports];
    for (let i = 0; i < reports.length; i += 100) {
      const res = await fetch(`${stack.baseUrl}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports: reports.slice(i, i + 100) }) });
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
  }
  return lifecycleSent;
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${stack.baseUrl}/dashboard`);
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
}

type LedgerRelease = { round_id: string; epsilon: number; delta: number; sigma2: string; buckets: Record<string, number>; contributions: number };

/** The leader's ledger (JSON) and the helper's (the payload of its JWS, checked with the helper's published key here too). */
async function bothLedgers(): Promise<{ leader: LedgerRelease[]; helper: LedgerRelease[] }> {
  const leader = ((await (await fetch(`${stack.baseUrl}/v1/privacy-ledger`)).json()) as { releases: LedgerRelease[] }).releases;
  const jws = await (await fetch(`${stack.helperUrl}/v1/privacy-ledger`)).text();
  const { payload } = await compactVerify(jws, createLocalJWKSet(await (await fetch(`${stack.helperUrl}/.well-known/jwks.json`)).json()));
  return { leader, helper: (JSON.parse(new TextDecoder().decode(payload)) as { releases: LedgerRelease[] }).releases };
}

/** Each round table of the ledger panel: its round, flags and lines (figure, leader, helper, check). */
async function ledgerTables(): Promise<{ round: string; flags: string; lines: string[][] }[]> {
  return page.$$eval('#ledger-panel .ledger-round', (els) =>
    els.map((el) => ({ round: (el as HTMLElement).dataset.round ?? '', flags: (el as HTMLElement).dataset.flags ?? '', lines: [...el.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? '')) })),
  );
}

/** The panel shows the released round on both sides, as each ledger states it, the helper's verified and no difference flagged. */
async function expectBothLedgersAgree(): Promise<void> {
  const { leader, helper } = await bothLedgers();
  expect(leader.map((r) => r.round_id)).toEqual([releasedRound]);
  expect(helper.map((r) => r.round_id)).toEqual([releasedRound]);
  const [l, h] = [leader[0] as LedgerRelease, helper[0] as LedgerRelease];
  expect(Object.values(h.buckets).reduce((a, b) => a + b, 0)).toBe(RELEASED_DEVICES); // every device the test sent, counted by the helper itself
  await expect.poll(async () => page.getAttribute('#helper-ledger-state', 'data-state'), POLL).toBe('verified');
  expect(await page.textContent('#helper-ledger-state')).toContain(`Helper ledger from ${stack.helperUrl}: signature verified`);
  expect(await page.getAttribute('#ledger-verdict', 'data-differences')).toBe('0');
  expect(await page.textContent('#ledger-verdict')).toMatch(/^No difference/);
  const tables = await ledgerTables();
  expect(tables.map((t) => [t.round, t.flags])).toEqual([[releasedRound, '']]);
  const line = (name: string) => tables[0]?.lines.find((cells) => cells[0] === name);
  expect(line('ε')).toEqual(['ε', String(l.epsilon), String(h.epsilon), 'same']);
  expect(line('δ')).toEqual(['δ', String(l.delta), String(h.delta), 'same']);
  expect(line('σ² per entry')?.[1]).toContain(l.sigma2);
  expect(line('σ² per entry')?.[2]).toContain(h.sigma2);
  expect(line('σ² per entry')?.[3]).toBe('same');
  const sizes = (b: Record<string, number>) => Object.entries(b).map(([key, n]) => `${key}: ${n}`).join(', ');
  expect(line('Bucket sizes')).toEqual(['Bucket sizes', sizes(l.buckets), sizes(h.buckets), 'same']);
}

beforeAll(async () => {
  // The backfill is real randomized reports from a few hundred devices a week: at the
  // default GRR ε (0.2, 0.1, 0.1) their estimates' error (±170 to ±360 devices) would
  // suppress nearly every line, so this stack's model uses ε 2, 1, 1 to have figures to show.
  stack = await startStack({ K_THRESHOLD: '20', DEV_BACKFILL_WEEKS: '12', MEASUREMENT: 'grr', GRR_EPSILON: '2,1,1' });
  marketer = await mintToken(stack.authJwk, { role: 'marketer' });
  // Before any page asks for (and so releases) those weeks. The 12-device round below is
  // under its noise floor, so it keeps every centroid and the segmentation (and these
  // counts) stay the same.
  lifecycleSent = await backfillReports(await currentManifest());
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('/dashboard', () => {
  it('refuses a token the API refuses, and keeps nothing of it', async () => {
    const forged = await mintToken(stack.authJwk, { role: 'marketer', aud: 'someone-else' });
    await signIn(forged);
    await expect.poll(async () => page.textContent('#status'), POLL).toMatch(/^Sign-in refused: A valid bearer token is required/);
    expect(await page.isVisible('#data')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('edgeseg-token'))).toBeNull();
  });

  it('a campaign created here shows on a device in its segment after its next model fetch, and not on a device in another', { timeout: 120_000 }, async () => {
    // First, on the bootstrap model (before any round moves the centroids), so two plain viewing styles land in two segments.
    await signIn(marketer);
    await page.waitForSelector('body[data-loaded="true"]');
    const devices = [await launchChromium(), await launchChromium()];
    try {
      const [a, b] = await Promise.all(devices.map((d) => d.context.newPage()));
      if (!a || !b) throw new Error('no page');
      // Activation must not tell the server who matched: record everything both devices send.
      const sent: string[] = [];
      for (const p of [a, b]) p.on('request', (r) => sent.push(`${r.method()} ${new URL(r.url()).pathname}${r.postData() ? ` ${r.postData()}` : ''}`));
      await Promise.all([a, b].map((p) => p.clock.setFixedTime(weekdayAfternoon())));
      const demoAt = async (p: Page) => {
        await p.goto(`${stack.baseUrl}/demo`);
        await p.waitForSelector('body[data-ready="true"]');
      };
      const segmentOf = (p: Page) => p.evaluate(() => (document.getElementById('segment') as HTMLElement).dataset.segment);
      const ids = (row: string, n: number) => CATALOGUE.titles.filter((t) => t.row === row).slice(0, n).map((t) => t.id);
      await Promise.all([demoAt(a), demoAt(b)]);
      await a.selectOption('#device', 'tv');
      for (const id of ids('drama', 4)) await a.click(`button[data-action="finish"][data-content="${id}"]`);
      await b.selectOption('#device', 'mobile');
      for (const id of ids('comedy', 8)) await b.click(`button[data-action="skip"][data-content="${id}"]`);
      await expect.poll(async () => (await segmentOf(a)) !== undefined && (await segmentOf(b)) !== undefined, POLL).toBe(true);
      const [segA, segB] = [Number(await segmentOf(a)), Number(await segmentOf(b))];
      expect(segA).not.toBe(segB);
      expect(await a.isVisible('#campaign')).toBe(false);

      await page.selectOption('#campaign-form [name=kind]', 'message');
      await page.fill('#campaign-form [name=id]', 'for-segment-a');
      await page.selectOption('#campaign-form [name=segment]', String(segA));
      await page.fill('#campaign-form [name=title]', 'Picked for you');
      await page.fill('#campaign-form [name=body]', 'Three new dramas tonight.');
      await page.click('#campaign-form button[type=submit]');
      await expect.poll(async () => page.$$eval('#campaign-list tbody tr th', (ths) => ths.map((th) => th.textContent)), POLL).toContain('for-segment-a');

      await Promise.all([demoAt(a), demoAt(b)]); // the next model fetch
      await expect.poll(async () => a.isVisible('#campaign'), POLL).toBe(true);
      expect(await a.textContent('#campaign h2')).toBe('Picked for you');
      expect(await a.textContent('#campaign')).toContain('Three new dramas tonight.');
      expect(await b.isVisible('#campaign')).toBe(false);
      expect(await b.evaluate(() => (window as unknown as DemoWindow).edgeseg.campaigns())).toEqual([]);
      expect(await axeViolations(a)).toEqual([]);
      // Only reads left the devices (pages, SDK chunks, the model and its keys, the stack's
      // config and the helper's HPKE key the page pins): no body, no report, nothing that
      // names a segment or a campaign, from either device.
      expect(sent.length).toBeGreaterThan(0);
      for (const line of sent) expect(line, line).toMatch(/^GET \/(demo|preferences|sdk\/|v1\/model$|v1\/stack$|\.well-known\/jwks\.json$|\.well-known\/hpke-configs$|app\.css$|favicon|vendor\/|demo\/|dashboard\/model\.js$)/);
      const removed = await fetch(`${stack.baseUrl}/v1/campaigns/for-segment-a`, { method: 'DELETE', headers: { authorization: `Bearer ${marketer}` } });
      expect(removed.status).toBe(200);
    } finally {
      await Promise.all(devices.map((d) => d.close()));
    }
  });

  it('signs in with a marketer token and shows segments with profiles, the trend chart, rounds and both ledgers agreeing', { timeout: 180_000 }, async () => {
    releasedRound = await releaseRound(await mintToken(stack.authJwk, { role: 'admin' }), RELEASED_DEVICES);
    await page.goto(`${stack.baseUrl}/`);
    await page.evaluate(() => sessionStorage.clear());
    const started = Date.now();
    await signIn(marketer);
    await page.waitForSelector('body[data-loaded="true"]');
    const loadedMs = Date.now() - started;
    const manifest = await currentManifest();
    const release = (await (await marketerGet('/v1/segments')).json()) as { period: string; segments: { label: string; count: number | null; suppressed: boolean }[] };
    expect(await page.evaluate(() => sessionStorage.getItem('edgeseg-token'))).toBe(marketer);
    expect(await page.textContent('#model')).toContain(`Model v${manifest.version} · k = ${manifest.k} segments`);
    expect(await page.textContent('#model')).toContain('signature verified');

    // One row per segment: the API's label and count, and the profile worded from the model's centroid.
    const rows = await page.$$eval('#segments tbody tr', (trs) =>
      trs.map((tr) => ({ label: tr.querySelector('th strong')?.textContent, profile: tr.querySelector('th .small')?.textContent, traits: [...tr.querySelectorAll('.traits li')].map((li) => li.textContent), count: tr.querySelectorAll('td')[0]?.textContent })),
    );
    expect(rows).toHaveLength(manifest.k);
    rows.forEach((row, i) => {
      const profile = describeCentroid(manifest.centroids[i] as number[], manifest.scaling, manifest.features);
      const api = release.segments[i];
      expect(row.label).toBe(api?.label);
      expect(row.profile).toBe(`Profile: ${profile.label}`);
      expect(row.traits).toEqual(profile.traits);
      expect(row.count).toBe(api?.suppressed ? 'suppressed' : api?.count?.toLocaleString('en-GB'));
    });
    expect(await page.inputValue('#period')).toBe(release.period);
    expect(release.segments[0]?.suppressed).toBe(false); // half the backfilled audience is in segment 0
    expect((await (await marketerGet('/v1/rounds')).json() as { rounds: { result: { kept: boolean[] } | null }[] }).rounds[0]?.result?.kept.every(Boolean)).toBe(true);

    // The trend chart: a uPlot canvas with one legend entry per segment, and 12 weeks in its table.
    expect(await page.$$eval('#history-chart canvas', (c) => c.length)).toBeGreaterThan(0);
    const legend = await page.$$eval('#history-chart .u-legend .u-series', (s) => s.map((x) => x.textContent?.trim()));
    expect(legend.filter((l) => l !== 'Week of')).toEqual(release.segments.map((s) => s.label));
    expect(await page.$$eval('#history-table tbody tr', (r) => r.length)).toBe(12);

    // Rounds and both ledgers hold the round released above.
    expect(await page.textContent('#rounds-panel')).toContain(releasedRound);
    expect(await page.textContent('#rounds-panel')).toContain('released');
    await expectBothLedgersAgree();
    // Training health as the API states it (GET /v1/training): k, the drift line and silhouette by k.
    const training = (await (await marketerGet('/v1/training')).json()) as { k: number; drift: { alert: boolean } | null; k_candidates: { k: number; silhouette: number }[] };
    const trainingText = await page.textContent('#training-panel');
    expect(trainingText).toContain(`Model k = ${training.k}`);
    expect(trainingText).toContain(training.drift === null ? 'No drift check has run yet' : training.drift.alert ? 'Drift alert' : 'No drift:');
    expect(await page.$$eval('#training-panel tbody tr', (r) => r.length)).toBe(training.k_candidates.length);
    console.log(`dashboard: signed in and loaded in ${loadedMs} ms`);
  });

  it('flags a leader ledger that differs from the helper’s, and says plainly when the helper’s ledger is forged or cannot be reached', { timeout: 90_000 }, async () => {
    const { leader } = await bothLedgers();
    const helperLedgerUrl = `${stack.helperUrl}/v1/privacy-ledger`;
    /** Loads the page again (the token in the tab signs it in) and waits for the helper ledger's state. */
    const reloadUntil = async (state: string) => {
      await page.reload();
      await expect.poll(async () => page.getAttribute('#helper-ledger-state', 'data-state'), POLL).toBe(state);
      await page.waitForSelector('body[data-loaded="true"]');
    };
    try {
      // A leader stating another ε than the helper released with.
      await page.route(`${stack.baseUrl}/v1/privacy-ledger`, (route) => route.fulfill({ json: { note: '', releases: leader.map((r) => ({ ...r, epsilon: r.epsilon / 2 })) } }));
      await reloadUntil('verified');
      expect(await page.getAttribute('#ledger-verdict', 'data-differences')).toBe('1');
      expect(await page.textContent('#ledger-verdict')).toContain(`${releasedRound} (ε differs)`);
      expect((await ledgerTables()).map((t) => [t.round, t.flags])).toEqual([[releasedRound, 'epsilon']]);
      expect((await ledgerTables())[0]?.lines.find((cells) => cells[0] === 'ε')?.[3]).toBe('differs');

      // A leader hiding the release: the helper's entry stands alone, flagged.
      await page.unrouteAll();
      await page.route(`${stack.baseUrl}/v1/privacy-ledger`, (route) => route.fulfill({ json: { note: '', releases: [] } }));
      await reloadUntil('verified');
      expect((await ledgerTables()).map((t) => [t.round, t.flags])).toEqual([[releasedRound, 'helper-only']]);
      expect(await page.textContent('#ledger-verdict')).toContain('released by the helper only');

      // The helper's ledger changed after it was signed: not shown, not compared, said so.
      await page.unrouteAll();
      await page.route(helperLedgerUrl, async (route) => {
        const response = await route.fetch();
        const [header, payload, signature] = (await response.text()).split('.') as [string, string, string];
        const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { releases: LedgerRelease[] };
        forged.releases = forged.releases.map((r) => ({ ...r, epsilon: r.epsilon / 2 }));
        await route.fulfill({ response, body: `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}` });
      });
      await reloadUntil('unverified');
      expect(await page.textContent('#helper-ledger-state')).toMatch(/^Helper ledger unverified: do not trust\./);
      expect(await page.textContent('#ledger-verdict')).toMatch(/^No comparison/);
      const unverified = await ledgerTables();
      expect(unverified.map((t) => [t.round, t.flags])).toEqual([[releasedRound, '']]);
      expect(unverified[0]?.lines.map((cells) => cells[2])).toEqual(unverified[0]?.lines.map(() => '–')); // none of the helper's figures shown

      // The helper not answering.
      await page.unrouteAll();
      await page.route(helperLedgerUrl, (route) => route.abort('connectionrefused'));
      await reloadUntil('unreachable');
      expect(await page.textContent('#helper-ledger-state')).toContain(`The helper's ledger could not be reached at ${stack.helperUrl}`);
    } finally {
      await page.unrouteAll();
    }
    await reloadUntil('verified');
    expect(await page.getAttribute('#ledger-verdict', 'data-differences')).toBe('0');
  });

  it('serves the page modules but not their unit tests', async () => {
    const module = await fetch(`${stack.baseUrl}/dashboard/ledger-compare.js`);
    expect(module.status).toBe(200);
    await module.body?.cancel();
    const test = await fetch(`${stack.baseUrl}/dashboard/ledger-compare.test.ts`);
    expect(test.status).toBe(404);
    await test.body?.cancel();
  });

  it('shows lifecycle shares for the selected week from real reports, with the model’s rules, and their trend per stage', { timeout: 60_000 }, async () => {
    type Lifecycle = { reports: number; epsilon: number; kThreshold: number; stages: { stage: LifecycleStage; share: number | null; share_ci95: [number, number] | null; suppressed: boolean }[] };
    const manifest = await currentManifest();
    const names = ['New viewers', 'Active', 'At risk', 'Lapsed'];
    const pct = (share: number) => `${(share * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`;
    /** The panel shows exactly what GET /v1/segments answers for `period`. */
    const expectPanelToShow = async (period: string): Promise<Lifecycle> => {
      const { lifecycle } = (await (await marketerGet(`/v1/segments?period=${period}`)).json()) as { lifecycle: Lifecycle };
      await expect.poll(async () => page.textContent('#lifecycle caption'), POLL).toContain(`${period} · ${lifecycle.reports.toLocaleString('en-GB')} lifecycle reports`);
      expect(lifecycle.reports).toBe(lifecycleSent.get(period) ?? 0); // every report the backfill sent that week, and only those
      expect(await page.textContent('#lifecycle caption')).toContain(`ε = ${lifecycleEpsilon(manifest)}`);
      const rows = await page.$$eval('#lifecycle tbody tr', (trs) => trs.map((tr) => ({ stage: tr.getAttribute('data-stage'), name: tr.querySelector('th strong')?.textContent, rule: tr.querySelector('th .small')?.textContent, share: tr.querySelectorAll('td')[0]?.textContent, ci: tr.querySelectorAll('td')[1]?.textContent })));
      expect(rows.map((r) => r.stage)).toEqual([...LIFECYCLE_STAGES]);
      expect(rows.map((r) => r.name)).toEqual(names);
      rows.forEach((row, i) => {
        const api = lifecycle.stages[i];
        expect(row.share).toBe(api?.suppressed || api?.share == null ? 'suppressed' : pct(api.share));
        expect(row.ci).toBe(api?.suppressed || !api?.share_ci95 ? `< ${lifecycle.kThreshold} viewers` : `${pct(api.share_ci95[0])}–${pct(api.share_ci95[1])}`);
      });
      // The rules come from the signed model, not from the page.
      const { new_days, at_risk_days, lapsed_days } = manifest.lifecycle;
      expect(rows[0]?.rule).toBe(`first viewing under ${new_days} days ago, watched in the last ${at_risk_days} days`);
      expect(rows[2]?.rule).toBe(`no viewing for ${at_risk_days}+ days (up to ${lapsed_days})`);
      expect(rows[3]?.rule).toBe(`no viewing for ${lapsed_days}+ days`);
      return lifecycle;
    };

    // The latest week: 400+ devices with every stage at 20% or more, so no stage is
    // suppressed, and the debiased shares shown add up to 100% (each rounded to 0.1 point).
    const latest = await page.inputValue('#period');
    const lifecycle = await expectPanelToShow(latest);
    expect(lifecycle.stages.every((s) => !s.suppressed)).toBe(true);
    const shown = await page.$$eval('#lifecycle tbody tr td:first-of-type', (tds) => tds.map((td) => Number(td.textContent?.replace('%', ''))));
    expect(shown.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    expect(Math.abs(shown.reduce((a, b) => a + b, 0) - 100)).toBeLessThanOrEqual(0.2 + 1e-9);

    // Other weeks in the selector: the panel follows them (the oldest backfilled week, and
    // the week before the backfill, which no device reported).
    const options = await page.$$eval('#period option', (list) => list.map((o) => o.getAttribute('value') as string));
    const older = options.filter((p) => p !== latest && lifecycleSent.has(p)).at(-1) as string;
    const unreported = options.find((p) => !lifecycleSent.has(p)) as string;
    expect(older).toBeDefined();
    expect(unreported).toBeDefined();
    await page.selectOption('#period', older);
    expect((await expectPanelToShow(older)).reports).toBeGreaterThan(0);
    await page.selectOption('#period', unreported);
    expect((await expectPanelToShow(unreported)).stages.every((st) => st.suppressed)).toBe(true);
    expect(await page.textContent('#lifecycle-panel')).toContain(`No lifecycle reports arrived for ${unreported}`);
    await page.selectOption('#period', latest);
    await expectPanelToShow(latest);

    // The trend: a uPlot chart with one series per stage, and per week the API's shares in its table.
    const history = (await (await marketerGet('/v1/segments/history')).json()) as { periods: { period: string; lifecycle: Lifecycle }[] };
    expect(await page.$$eval('#lifecycle-chart canvas', (c) => c.length)).toBeGreaterThan(0);
    const legend = await page.$$eval('#lifecycle-chart .u-legend .u-series', (s) => s.map((x) => x.textContent?.trim()));
    expect(legend.filter((l) => l !== 'Week of')).toEqual(names);
    const table = await page.$$eval('#lifecycle-history tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(table).toEqual(history.periods.map((p) => [p.period, ...p.lifecycle.stages.map((s) => (s.suppressed || s.share === null ? 'suppressed' : pct(s.share))), p.lifecycle.reports.toLocaleString('en-GB')]));
    expect(table).toHaveLength(12);
    expect(history.periods.filter((p) => lifecycleSent.has(p.period)).every((p) => p.lifecycle.reports === lifecycleSent.get(p.period))).toBe(true);

    // Keyboard: the figures table opens from its summary with Enter.
    await page.focus('#lifecycle-h ~ details summary');
    await page.keyboard.press('Enter');
    expect(await page.isVisible('#lifecycle-history')).toBe(true);
  });

  it('paints its first content within a second of the page arriving', async () => {
    await page.goto(`${stack.baseUrl}/dashboard`);
    await page.waitForSelector('body[data-loaded="true"]');
    // From the first byte of the page: the page's own cost, not the dev server's queue on a busy machine.
    const { fcp, responseStart } = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity,
      responseStart: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).responseStart,
    }));
    console.log(`dashboard: first contentful paint ${Math.round(fcp)} ms after navigation, ${Math.round(fcp - responseStart)} ms after the first byte`);
    expect(fcp - responseStart).toBeLessThan(1000);
  });

  it('exports the CSV the API serves, for the week and for 12 weeks', async () => {
    for (const [button, path] of [['#csv-history', '/v1/segments/history'], ['#csv-period', `/v1/segments?period=${await page.inputValue('#period')}`]] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      const file = readFileSync((await download.path()) as string, 'utf8');
      expect(download.suggestedFilename()).toMatch(/^edgeseg-segments-.*\.csv$/);
      expect(file.split('\n')[0]).toBe('period,model_version,segment,label,count,ci95_low,ci95_high,suppressed,mechanism,epsilon');
      expect(file).toBe(await (await marketerGet(path, 'text/csv')).text());
    }
  });

  it('creates a campaign through the form, shipped in the next signed model, and deletes it', async () => {
    const before = await currentManifest();
    await page.fill('#campaign-form [name=id]', 'weekend-drama');
    await page.selectOption('#campaign-form [name=segment]', '2');
    await page.fill('#campaign-form [name=title]', 'Your weekend drama');
    await page.fill('#campaign-form [name=body]', 'New episodes every Friday night.');
    await page.click('#campaign-form button[type=submit]');
    await page.waitForSelector('#campaign-list tbody tr');
    expect(await page.textContent('#campaign-status')).toContain(`model v${before.version + 1}`);
    const row = await page.$$eval('#campaign-list tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(row).toEqual([['weekend-drama', before.labels[2], 'Message: “Your weekend drama” — New episodes every Friday night.', 'always', expect.any(String), 'Delete']]);
    const shipped = await currentManifest();
    expect(shipped.version).toBe(before.version + 1);
    expect(shipped.campaigns).toEqual([{ id: 'weekend-drama', segment: 2, kind: 'message', title: 'Your weekend drama', body: 'New episodes every Friday night.' }]);
    expect(shipped.centroids).toEqual(before.centroids);

    // A content row, then delete both (confirming the dialog).
    await page.fill('#campaign-form [name=id]', 'comedy-row');
    await page.selectOption('#campaign-form [name=kind]', 'content_row');
    expect(await page.isVisible('#campaign-form [name=body]')).toBe(false);
    await page.fill('#campaign-form [name=title]', 'Laugh tonight');
    await page.fill('#campaign-form [name=items]', 'sb-011, sb-012');
    await page.click('#campaign-form button[type=submit]');
    await expect.poll(async () => page.$$eval('#campaign-list tbody tr', (trs) => trs.length), POLL).toBe(2);
    expect((await currentManifest()).campaigns?.[1]).toEqual({ id: 'comedy-row', segment: 0, kind: 'content_row', title: 'Laugh tonight', items: ['sb-011', 'sb-012'] });

    page.on('dialog', (d) => void d.accept());
    await page.click('button[data-delete="weekend-drama"]');
    await expect.poll(async () => page.$$eval('#campaign-list tbody tr th', (ths) => ths.map((th) => th.textContent)), POLL).toEqual(['comedy-row']);
    await page.click('button[data-delete="comedy-row"]');
    await expect.poll(async () => page.textContent('#campaigns-panel'), POLL).toMatch(/^No campaigns in model v\d+/);
    expect((await currentManifest()).campaigns ?? []).toEqual([]);
    const listed = (await (await marketerGet('/v1/campaigns')).json()) as { campaigns: unknown[] };
    expect(listed.campaigns).toEqual([]);
  });

  it('shows a refused campaign with the server’s reason and publishes nothing', async () => {
    const before = await currentManifest();
    await page.fill('#campaign-form [name=id]', 'bad-row');
    await page.selectOption('#campaign-form [name=kind]', 'content_row');
    await page.fill('#campaign-form [name=title]', 'No items');
    await page.click('#campaign-form button[type=submit]');
    await expect.poll(async () => page.textContent('#campaign-status'), POLL).toMatch(/^Not created: Body does not match the schema: .*items/);
    expect((await currentManifest()).version).toBe(before.version);
  });

  it('has no axe-core WCAG 2.1 A/AA violations signed in with data, and writes a screenshot', async () => {
    await page.fill('#campaign-form [name=id]', 'late-night');
    await page.selectOption('#campaign-form [name=kind]', 'message');
    await page.fill('#campaign-form [name=title]', 'Late-night picks');
    await page.fill('#campaign-form [name=body]', 'Thrillers for after 11.');
    await page.click('#campaign-form button[type=submit]');
    await page.waitForSelector('#campaign-list tbody tr');
    await page.click('#history-h + div + details summary');
    await page.click('#lifecycle-h ~ details summary');
    expect(await page.isVisible('#lifecycle-history')).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('signs out: the token leaves the tab and a reload asks for it again', async () => {
    await page.click('#signout');
    expect(await page.evaluate(() => sessionStorage.getItem('edgeseg-token'))).toBeNull();
    expect(await page.isVisible('#data')).toBe(false);
    expect(await page.textContent('#segments-panel')).toBe('');
    await page.goto(`${stack.baseUrl}/dashboard`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#signin', { state: 'visible' });
    expect(await page.isVisible('#data')).toBe(false);
  });
});
