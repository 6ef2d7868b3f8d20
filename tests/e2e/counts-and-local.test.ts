/**
 * The two paths besides secure k-means rounds, through the real API of a two-aggregator
 * stack: secure per-week segment counts (a secret-shared one-hot vector per device, when
 * the signed model says `measurement: 'secure'`), and local-mode rounds for single-operator
 * deployments (each device adds its own noise; no helper involved).
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { flattenCentroids, isoWeekPeriod, parseManifest, seededRandom, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { addDiscreteGaussianNoise, rational } from '@edgeseg/shared/dp';
import { buildSecureContribution, buildSecureCountContribution, encodeKmeansContribution } from '@edgeseg/shared/secure';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
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

async function verifiedModel(): Promise<ModelManifest> {
  const jws = await (await fetch(`${stack.baseUrl}/v1/model`)).text();
  const jwks = (await (await fetch(`${stack.baseUrl}/.well-known/jwks.json`)).json()) as { keys: [] };
  const { payload } = await compactVerify(jws, createLocalJWKSet(jwks));
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(payload)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

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
    expect(round).toMatchObject({ kind: 'counts', mode: 'secure', model_version: manifest.version, k: manifest.k, d: 0, groups: 1, period: isoWeekPeriod(Date.now()), epsilon: manifest.epsilon.report });
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

describe('local-mode rounds (single operator)', () => {
  it('devices add their own noise; the leader sums them without the helper and publishes the next model', { timeout: 120_000 }, async () => {
    const before = await verifiedModel();
    const round = await openRound(stack.baseUrl, admin, { mode: 'local', duration_s: 600, min_devices: 40, epsilon: 8, delta: 1e-9, groups: 2 });
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
      statuses.push((await post({ round_id: round.round_id, id: deviceId(1000 + i), slice: 0, group: i % 2, noised: [...noised] })).status);
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
