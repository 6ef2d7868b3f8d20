/**
 * Full secure rounds through the real API of two aggregators (two wrangler dev
 * processes, each with its own keys and SQLite storage): devices upload Prio3 reports
 * (HPKE-sealed input shares with a validity proof) to the leader, which prepares its
 * share and relays the helper's with its preparation share; the helper verifies each;
 * at close both agree on the batch, each adds its own noise, and the leader publishes a
 * signed model that devices verify.
 *
 * Sizes: a k-means report of the bootstrap model (k = 4, d = 31: 136 entries of 8 bits)
 * takes tens of ms to build and about as long for each aggregator to prepare, so rounds
 * here hold a few hundred devices in 2 groups (min_batch 60 per bucket) at ε = 20 (the
 * lenient test helper's most), enough for the released centroids to move visibly.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { seededRandom, standardNormal, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { buildSecureContribution } from '@edgeseg/shared/secure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { verifiedModel as verifiedModelAt } from '../support/model.ts';
import { closeRoundAndWait, openRound as openRoundAs } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

let stack: RunningStack;
let admin: string;
let deviceSeq = 0;

async function openRound(opts: Record<string, number>): Promise<RoundDescriptor> {
  const round = await openRoundAs(stack.baseUrl, admin, opts);
  expect(await (await fetch(`${stack.baseUrl}/v1/rounds/current`)).json()).toEqual(round);
  return round;
}

/**
 * Rounds here last this long: enough to upload their devices (a restart included). The
 * helper releases a secure round only once its close time has passed, so "close now"
 * stops contributions at once but the release waits for that time.
 */
const ROUND_S = 60;
/** Every round of this file: 2 groups, at least 60 devices per bucket (210 devices split 105 ± 7), ε = 20. */
const ROUND = { duration_s: ROUND_S, min_batch: 60, epsilon: 20, delta: 1e-9, groups: 2 } as const;
const closeAndWait = (roundId: string): Promise<PublicRound> => closeRoundAndWait(stack.baseUrl, admin, roundId, { pollMs: 500, limitMs: (ROUND_S + 60) * 1000 });

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const verifiedModel = (): Promise<ModelManifest> => verifiedModelAt(stack.baseUrl);


/** True cluster centres: the model's centroids shifted by +0.5 on every feature. */
function trueCentres(manifest: ModelManifest): number[][] {
  return manifest.centroids.map((row) => row.map((v) => v + 0.5));
}

/** n simulated devices' contribution bodies (standardised features around the true centres). */
async function devices(round: RoundDescriptor, centres: number[][], n: number): Promise<unknown[]> {
  const random = seededRandom(1000 + deviceSeq);
  const gauss = () => standardNormal(random);
  const bodies: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const centre = centres[i % centres.length] as number[];
    const x = Float32Array.from(centre, (v) => v + 0.3 * gauss());
    deviceSeq++;
    const id = `dev-${String(deviceSeq).padStart(8, '0')}-${crypto.randomUUID().slice(0, 8)}`;
    bodies.push((await buildSecureContribution(round, x, id)).body);
  }
  return bodies;
}

async function upload(bodies: unknown[], concurrency = 16): Promise<number[]> {
  const statuses: number[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const res = await fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bodies[i]) });
        statuses[i] = res.status;
        await res.body?.cancel();
      }
    }),
  );
  return statuses;
}


function distance(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));
}

describe('secure federated k-means round, two aggregators', () => {
  it('300 devices: released, new signed model published and verified, centroids moved toward the data', { timeout: 180_000 }, async () => {
    const before = await verifiedModel();
    const centres = trueCentres(before);
    const round = await openRound({ ...ROUND });
    expect(round.hpke.helper?.public_key).not.toBe(round.hpke.leader.public_key);
    const statuses = await upload(await devices(round, centres, 300));
    expect(statuses.every((s) => s === 202)).toBe(true);

    const closed = await closeAndWait(round.round_id);
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(300);
    expect(closed.rejected).toBe(0); // every honest proof verified
    expect(closed.mechanism).toMatch(/each of 2 aggregators/);

    const after = await verifiedModel();
    expect(after.version).toBe(before.version + 1);
    expect(closed.result?.model_version).toBe(after.version);
    for (let c = 0; c < after.k; c++) {
      if (closed.result?.kept[c]) continue;
      expect(distance(after.centroids[c] as number[], centres[c] as number[])).toBeLessThan(distance(before.centroids[c] as number[], centres[c] as number[]));
    }
    const ledger = (await (await fetch(`${stack.baseUrl}/v1/privacy-ledger`)).json()) as { releases: { round_id: string; epsilon: number }[] };
    expect(ledger.releases.find((r) => r.round_id === round.round_id)?.epsilon).toBe(20);
  });

  it('closes and publishes with 30% of the expected devices missing; under the minimum it is abandoned with a reason', { timeout: 240_000 }, async () => {
    const model = await verifiedModel();
    const round = await openRound({ ...ROUND });
    await upload(await devices(round, trueCentres(model), 210)); // 300 expected, 30% dropped out
    const closed = await closeAndWait(round.round_id);
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(210);
    expect((await verifiedModel()).version).toBe(model.version + 1);

    const small = await openRound({ ...ROUND });
    await upload(await devices(small, trueCentres(model), 80));
    const abandoned = await closeAndWait(small.round_id);
    expect(abandoned.state).toBe('abandoned');
    expect(abandoned.reason).toMatch(/80 contributions, no bucket reached the minimum batch of 60/);
    expect((await verifiedModel()).version).toBe(model.version + 1);
  });

  it('loses no accepted contribution and counts none twice across a restart of both servers mid-round', { timeout: 180_000 }, async () => {
    const model = await verifiedModel();
    const round = await openRound({ ...ROUND });
    const first = await devices(round, trueCentres(model), 150);
    expect((await upload(first)).every((s) => s === 202)).toBe(true);
    await stack.restart();
    const replays = await upload(first.slice(0, 40));
    expect(replays.every((s) => s === 409)).toBe(true);
    expect((await upload(await devices(round, trueCentres(model), 150))).every((s) => s === 202)).toBe(true);
    const closed = await closeAndWait(round.round_id);
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(300);
    expect(closed.rejected).toBe(0);
  });
});
