/**
 * The two paths besides secure k-means rounds, through the real API of a two-aggregator
 * stack: secure per-week counts of segments, lifecycle stages and campaign impressions (a
 * secret-shared one-hot vector per device and measure, when the signed model says
 * `measurement: 'secure'`), and local-mode rounds for single-operator
 * deployments (each device adds its own noise; no helper involved).
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { countsCloseMs, flattenCentroids, isoWeekPeriod, LIFECYCLE_STAGES, seededRandom, standardNormal, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { addDiscreteGaussianNoise, rational } from '@edgeseg/shared/dp';
import { buildSecureContribution, buildSecureCountContribution, encodeKmeansContribution } from '@edgeseg/shared/secure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { verifiedModel as verifiedModelAt } from '../support/model.ts';
import { closeRoundAndWait, openRound } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

let stack: RunningStack;
let admin: string;
let marketer: string;

beforeAll(async () => {
  stack = await startStack({ MEASUREMENT: 'secure', K_THRESHOLD: '5' });
  admin = await mintToken(stack.authJwk, { role: 'admin' });
  marketer = await mintToken(stack.authJwk, { role: 'marketer' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const verifiedModel = (): Promise<ModelManifest> => verifiedModelAt(stack.baseUrl);

const post = (body: unknown) => fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const deviceId = (i: number) => `device-${String(i).padStart(10, '0')}-${crypto.randomUUID().slice(0, 8)}`;

async function rounds(): Promise<PublicRound[]> {
  return ((await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] }).rounds;
}

describe('secure per-week segment counts', () => {
  it('the signed model asks devices to count securely, and the week’s counts round is opened once on demand', async () => {
    const manifest = await verifiedModel();
    expect(manifest.measurement).toBe('secure');
    const first = await fetch(`${stack.baseUrl}/v1/rounds/current?kind=counts`);
    expect(first.status).toBe(200);
    const round = (await first.json()) as RoundDescriptor;
    expect(round).toMatchObject({ kind: 'counts', mode: 'secure', model_version: manifest.version, k: manifest.k, d: 0, groups: 1, period: isoWeekPeriod(Date.now()), epsilon: 0.4 }); // wrangler.toml COUNTS_EPSILON
    expect(round.hpke).toEqual(manifest.aggregators);
    expect(await (await fetch(`${stack.baseUrl}/v1/rounds/current?kind=counts`)).json()).toEqual(round);
    // The k-means slot is not filled by a counts round.
    expect((await fetch(`${stack.baseUrl}/v1/rounds/current`)).status).toBe(404);
    const bad = await fetch(`${stack.baseUrl}/v1/rounds/current?kind=everything`);
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('takes each device’s sealed one-hot once, and refuses to release a week that is not over', { timeout: 60_000 }, async () => {
    const round = (await (await fetch(`${stack.baseUrl}/v1/rounds/current?kind=counts`)).json()) as RoundDescriptor;
    const bodies = [];
    for (let i = 0; i < 30; i++) bodies.push(await buildSecureCountContribution(round, i % 5 === 4 ? null : i % round.k, deviceId(i)));
    const statuses = await Promise.all(bodies.map(async (b) => (await post(b)).status));
    expect(statuses.every((s) => s === 202)).toBe(true);
    const replay = await post(bodies[0]);
    expect(replay.status).toBe(409);

    const close = await fetch(`${stack.baseUrl}/v1/admin/rounds/${round.round_id}/close`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(close.status).toBe(409);
    expect(((await close.json()) as { type: string }).type).toMatch(/period-open/);
    const listed = (await rounds()).find((r) => r.round_id === round.round_id);
    expect(listed).toMatchObject({ kind: 'counts', state: 'open', contributions: null });
    // Nothing of the open week is answered to marketers either.
    const seg = await fetch(`${stack.baseUrl}/v1/segments?period=${round.period}`, { headers: { authorization: `Bearer ${marketer}` } });
    expect(seg.status).toBe(409);
  });
});

describe('secure per-week lifecycle and impression counts', () => {
  const current = (query: string) => fetch(`${stack.baseUrl}/v1/rounds/current?${query}`);

  it('opens the week’s lifecycle round (4 stages and "none") beside the segment round, at its own ε', { timeout: 60_000 }, async () => {
    const manifest = await verifiedModel();
    const res = await current('kind=counts&measure=lifecycle');
    expect(res.status).toBe(200);
    const round = (await res.json()) as RoundDescriptor;
    const period = isoWeekPeriod(Date.now());
    // wrangler.toml COUNTS_EPSILON "0.4" sets the segment rounds; lifecycle and impressions keep 0.3.
    expect(round).toMatchObject({ round_id: `c-${period}-v${manifest.version}-lifecycle`, kind: 'counts', measure: 'lifecycle', mode: 'secure', model_version: manifest.version, k: LIFECYCLE_STAGES.length, d: 0, period, epsilon: 0.3 });
    expect(round.closes_at * 1000).toBe(countsCloseMs('lifecycle', period));
    expect(round.hpke).toEqual(manifest.aggregators);
    // Devices of every stage, and one without a stage ("none"), each proved one-hot.
    const statuses = await Promise.all([0, 1, 2, 3, null].map(async (stage, i) => (await post(await buildSecureCountContribution(round, stage, deviceId(500 + i)))).status));
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const close = await fetch(`${stack.baseUrl}/v1/admin/rounds/${round.round_id}/close`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(close.status).toBe(409);
    expect((await rounds()).find((r) => r.round_id === round.round_id)).toMatchObject({ kind: 'counts', state: 'open' });
  });

  it('counts last week’s impressions only once the model has campaigns, and refuses a measure it does not know', { timeout: 60_000 }, async () => {
    const none = await current('kind=counts&measure=impressions');
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await none.json()) as { detail: string }).detail).toMatch(/no campaigns/);
    for (const query of ['kind=counts&measure=ratings', 'kind=kmeans&measure=lifecycle', 'measure=segment']) {
      const bad = await current(query);
      expect(bad.status, query).toBe(422);
      expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }

    const created = await fetch(`${stack.baseUrl}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${marketer}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'welcome-back', segment: 0, kind: 'message', title: 'Welcome back' }) });
    expect(created.status).toBe(201);
    const manifest = await verifiedModel();
    expect(manifest.campaigns?.map((c) => c.id)).toEqual(['welcome-back']);
    const res = await current('kind=counts&measure=impressions');
    expect(res.status).toBe(200);
    const round = (await res.json()) as RoundDescriptor;
    const lastWeek = isoWeekPeriod(Date.now() - 7 * 86_400_000);
    expect(round).toMatchObject({ round_id: `c-${lastWeek}-v${manifest.version}-impressions`, measure: 'impressions', model_version: manifest.version, k: 1, period: lastWeek, epsilon: 0.3 });
    // Reported during the week after it, so it closes a week later than that week's segment round.
    expect(round.closes_at * 1000).toBe(countsCloseMs('impressions', lastWeek));
    const statuses = await Promise.all([0, null, 0].map(async (shown, i) => (await post(await buildSecureCountContribution(round, shown, deviceId(600 + i)))).status));
    expect(statuses).toEqual([202, 202, 202]);
    const close = await fetch(`${stack.baseUrl}/v1/admin/rounds/${round.round_id}/close`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(close.status).toBe(409);
    // Nothing of it is answered to marketers before the round releases.
    const early = await fetch(`${stack.baseUrl}/v1/campaigns/impressions?period=${isoWeekPeriod(Date.now())}`, { headers: { authorization: `Bearer ${marketer}` } });
    expect(early.status).toBe(409);
  });
});

describe('local-mode rounds (single operator)', () => {
  it('devices add their own noise; the leader sums them without the helper and publishes the next model', { timeout: 120_000 }, async () => {
    const before = await verifiedModel();
    const round = await openRound(stack.baseUrl, admin, { mode: 'local', duration_s: 600, min_batch: 20, epsilon: 8, delta: 1e-9, groups: 2 });
    expect(round.mode).toBe('local');
    expect(round.hpke.helper).toBeUndefined();
    expect(round.local_sigma2).toBeGreaterThan(0);

    const random = seededRandom(5);
    const centroids = flattenCentroids(round.slices[0] as number[][]);
    const sigma2 = rational(round.local_sigma2 as number);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const x = Float32Array.from(before.centroids[i % before.k] as number[], (v) => v + 0.2);
      const { vector } = encodeKmeansContribution(x, centroids, round.encoding);
      const noised = new Int32Array(addDiscreteGaussianNoise(new Uint32Array(vector.buffer), sigma2, random).buffer);
      statuses.push((await post({ round_id: round.round_id, id: deviceId(1000 + i), slice: 0, noised: [...noised] })).status);
    }
    expect(statuses.every((s) => s === 202)).toBe(true);

    // A sealed secure body is refused by a local round, and a plain vector by nothing else.
    const secureBody = await buildSecureContribution({ ...round, mode: 'secure', hpke: before.aggregators as NonNullable<ModelManifest['aggregators']> }, new Float32Array(round.d), deviceId(2000));
    const refused = await post(secureBody.body);
    expect(refused.status).toBe(422);

    const closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500 });
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(60);
    expect(closed.mechanism).toMatch(/added by each device/);
    const after = await verifiedModel();
    expect(after.version).toBe(before.version + 1);
    expect(after.centroids.flat().every(Number.isFinite)).toBe(true);
  });
});

/** n devices around `centres` (standardised), sealed for `round`. */
async function secureDevices(round: RoundDescriptor, centres: number[][], n: number, seed: number): Promise<unknown[]> {
  const random = seededRandom(seed);
  const gauss = () => standardNormal(random);
  const bodies: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const x = Float32Array.from(centres[i % centres.length] as number[], (v) => v + 0.25 * gauss());
    bodies.push((await buildSecureContribution(round, x, deviceId(seed * 10_000 + i))).body);
  }
  return bodies;
}

async function uploadAll(bodies: unknown[]): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < bodies.length; i += 25) statuses.push(...(await Promise.all(bodies.slice(i, i + 25).map(async (b) => (await post(b)).status))));
  return statuses;
}

/**
 * Secure rounds here last this long: every device's Prio3 report (about 80 ms to shard
 * at k = 6, d = 31) is built after the round opens and must arrive before it closes; the
 * helper releases a round only after its close time, so "close now" waits for it. Rounds
 * hold a few hundred devices in 2 groups so that they fit with room to spare.
 */
const SECURE_ROUND_S = 100;

describe('choosing k, drift and scheduled retraining', () => {
  const three = (d: number) => [-1.5, 0, 1.5].map((v, c) => Array.from({ length: d }, (_, j) => (j % 3 === c ? v + 1 : v / 2)));

  it('a k-selection round scores each candidate on its own slice and publishes the winner’s k', { timeout: (SECURE_ROUND_S + 150) * 1000 }, async () => {
    const before = await verifiedModel();
    const round = await openRound(stack.baseUrl, admin, { k_candidates: [3, 6], duration_s: SECURE_ROUND_S, min_batch: 50, epsilon: 8, delta: 1e-9, groups: 2 });
    expect(round.k).toBe(6);
    expect(round.slices).toHaveLength(2);
    expect(round.slices[0]?.slice(3).every((row) => row.every((v) => v === 1e5))).toBe(true);
    expect((await uploadAll(await secureDevices(round, three(round.d), 400, 7))).every((s) => s === 202)).toBe(true);
    const closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500, limitMs: (SECURE_ROUND_S + 60) * 1000 });
    expect(closed.state, closed.reason ?? '').toBe('released');
    const candidates = closed.result?.candidates ?? [];
    expect(candidates.map((c) => c.k)).toEqual([3, 6]);
    const after = await verifiedModel();
    expect(after.version).toBe(before.version + 1);
    const winner = candidates.find((c) => c.slice === closed.result?.slice);
    expect(after.k).toBe(winner?.k);
    expect(after.labels).toHaveLength(after.k);
    expect(after.centroids.flat().every((v) => Math.abs(v) < 1e4)).toBe(true); // no sentinel row is ever published

    const report = await (await fetch(`${stack.baseUrl}/v1/training`, { headers: { authorization: `Bearer ${marketer}` } })).json();
    expect(report).toMatchObject({ model_version: after.version, k: after.k, status: 'scheduled retraining is off', next_retrain_at: null });
    expect((report as { k_candidates: unknown[] }).k_candidates).toEqual(candidates);
  });

  it('the schedule is an admin setting; a drift over its threshold opens a retraining round on the next device poll', { timeout: (SECURE_ROUND_S + 150) * 1000 }, async () => {
    const noToken = await fetch(`${stack.baseUrl}/v1/admin/training`, { method: 'PUT', body: '{}' });
    expect(noToken.status).toBe(401);
    const asMarketer = await fetch(`${stack.baseUrl}/v1/admin/training`, { method: 'PUT', headers: { authorization: `Bearer ${marketer}` }, body: '{}' });
    expect(asMarketer.status).toBe(403);
    const put = (body: unknown) => fetch(`${stack.baseUrl}/v1/admin/training`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await put({ cadence_days: -1, round: { epsilon: 0 } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: string[] }).errors).toHaveLength(2);
    const unchanged = await (await fetch(`${stack.baseUrl}/v1/training`, { headers: { authorization: `Bearer ${admin}` } })).json();
    expect((unchanged as { settings: { cadence_days: number } }).settings.cadence_days).toBe(0);

    // A refinement round at the chosen k gives the last training's centroid move.
    const model = await verifiedModel();
    const refine = await openRound(stack.baseUrl, admin, { duration_s: SECURE_ROUND_S, min_batch: 50, epsilon: 8, delta: 1e-9, groups: 2 });
    await uploadAll(await secureDevices(refine, model.centroids.map((row) => row.map((v) => v + 0.4)), 250, 11));
    expect((await closeRoundAndWait(stack.baseUrl, admin, refine.round_id, { pollMs: 500, limitMs: (SECURE_ROUND_S + 60) * 1000 })).state).toBe('released');
    const health = (await (await fetch(`${stack.baseUrl}/v1/training`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { drift: { score: number; centroid_shift: number; alert: boolean } };
    expect(health.drift.centroid_shift).toBeGreaterThan(0);
    expect(health.drift.alert).toBe(false);

    expect((await put({ drift_threshold: 0.01, round: { duration_s: 600, min_batch: 500, epsilon: 2 } })).status).toBe(200);
    let opened: RoundDescriptor | null = null;
    for (let i = 0; i < 30 && !opened; i++) {
      const res = await fetch(`${stack.baseUrl}/v1/rounds/current`);
      if (res.ok) opened = (await res.json()) as RoundDescriptor;
      else await new Promise((r) => setTimeout(r, 1000));
    }
    expect(opened).toMatchObject({ kind: 'kmeans', epsilon: 2, model_version: (await verifiedModel()).version });
    const listed = (await rounds()).find((r) => r.round_id === opened?.round_id);
    expect(listed?.min_batch).toBe(500);
    // Nobody contributes: it is abandoned with its reason, and nothing is published.
    const abandoned = await closeRoundAndWait(stack.baseUrl, admin, opened?.round_id as string, { pollMs: 500 });
    expect(abandoned.state).toBe('abandoned');
  });
});
