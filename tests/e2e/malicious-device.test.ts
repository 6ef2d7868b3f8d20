/**
 * Devices that cheat (issue #15, point 1), against a real two-aggregator stack: the test
 * plays the devices. Before Prio3, 800 honest devices plus 5 crafted contributions (one
 * in each of 5 of the 8 groups) moved a centroid coordinate from −1.19 to 63,074, and
 * one crafted counts contribution added about 1,000,000 viewers to a segment. Now every
 * report carries a validity proof both aggregators check in the preparation exchange:
 *
 * - k-means (Prio3SumVec, each entry proved in [−128, 128) after the offset): 5 reports
 *   forged beyond the range (the library's prover fed an encoding whose "bit" is
 *   1,000,000) are stored for verification and then rejected, so the round's released
 *   contributions exclude them; 5 reports crafted AT the proved limit (+127 or −128 on the
 *   most damaging coordinate, −128 on the count) verify and are counted, and the released
 *   centroid coordinate moves by at most what 128 integer units per entry allow, computed
 *   below from the encoding scales and the released bucket sizes (plus the noise);
 * - counts (Prio3Histogram): a report claiming 1,000,000 in one segment, and one whose
 *   leader share was tampered with, fail verification at the helper, which stores neither:
 *   its release counts only honest reports and each segment is the truth plus noise. (A
 *   counts round of the leader's own is released only after its ISO week, so this part
 *   runs the preparation exchange against the real helper with the test as the leader.)
 * - the group: a body naming one is refused (422 invalid-body, unknown field): both aggregators derive it
 *   from the id with the round's verify key, which no public answer shows;
 * - a report id is taken once: a replay, or new shares under a used id, is refused.
 *
 * Sizes: 800 honest k-means devices (k = 2 through the admin API, d = 31: SumVec of 68
 * entries, about 30 ms to shard here and about as much to prepare per aggregator) and
 * 200 honest counts devices.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { flattenCentroids, isoWeekPeriod, type RoundDescriptor } from '@edgeseg/shared';
import {
  SUMVEC_OFFSET,
  addFieldInto,
  combineFieldShares,
  decodeCountAggregate,
  decodeFieldVector,
  encodeCountContribution,
  encodeKmeansContribution,
  encodingScales,
  fieldFromSigned,
  measurementOf,
  vdafFor,
  vectorLength,
  zeroFieldVector,
} from '@edgeseg/shared/secure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { MaliciousLeader, expectRefusal, selectorFor, type HelperRelease, type RelayAnswer } from '../support/malicious-leader.ts';
import { verifiedModel } from '../support/model.ts';
import { handBuiltReport, prepareAs, relayItemOf, type HandBuiltReport } from '../support/prio3-device.ts';
import { closeRoundAndWait, openRound } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

/** The attack: honest devices, and crafted reports. */
const HONEST = 800;
const CRAFTED = 5;
/** What a forged "bit" claims: the crafted contributions moved a coordinate by tens of thousands. */
const FORGED_UNITS = 1_000_000;
/** The k-means round stays open long enough to shard and upload every report on a loaded machine. */
const ROUND_S = 120;
const COUNTS_HONEST = 200;
const COUNTS_ROUND_S = 30;
/** Noise tolerance in standard deviations (per bucket, per entry: odds of a false failure far under 10^-6). */
const SIGMAS = 6;

let stack: RunningStack;
let admin: string;

const deviceId = (tag: string, i: number) => `md-${tag}-${String(i).padStart(5, '0')}-${crypto.randomUUID().slice(0, 8)}`;
const post = (body: unknown) => fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function upload(bodies: readonly unknown[], concurrency = 8): Promise<number[]> {
  const statuses: number[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const res = await post(bodies[i]);
        statuses[i] = res.status;
        await res.body?.cancel();
      }
    }),
  );
  return statuses;
}

/** The SumVec encoding (bits, least significant first) of an in-range k-means vector, as the honest prover sees it. */
function sumVecEncoding(round: RoundDescriptor, vector: Int32Array): bigint[] {
  const flp = vdafFor('kmeans', round.k, round.d).flp as unknown as { encode: (m: number[]) => bigint[] };
  return flp.encode(measurementOf('kmeans', vector) as number[]);
}

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('k-means: 800 honest devices and crafted reports', () => {
  let round: RoundDescriptor;
  /** Every honest device sits at this point (inside the clip), so each group's honest mean is it, up to rounding. */
  let x: number[];
  /** The coordinate the crafted reports attack (the largest |x_j|: the count lie moves it most) and the direction. */
  let j: number;
  let sign: 1 | -1;
  let honest: HandBuiltReport[];
  let atLimit: HandBuiltReport[];
  let forged: HandBuiltReport[];
  let statuses: { honest: number[]; atLimit: number[]; forged: number[] };
  let closed: PublicRound;

  beforeAll(async () => {
    round = await openRound(stack.baseUrl, admin, { k: 2, duration_s: ROUND_S, min_batch: 50, epsilon: 20, delta: 1e-9, groups: 1 }); // the training default (TRAINING_GROUPS): one sum per slice
    const c0 = round.slices[0]?.[0] as number[];
    const norm = Math.hypot(...c0);
    x = c0.map((v) => (norm > 4 ? (v * 4) / norm : v));
    j = x.reduce((best, v, i) => (Math.abs(v) > Math.abs(x[best] as number) ? i : best), 0);
    sign = (x[j] as number) < 0 ? -1 : 1;
    const centroids = flattenCentroids(round.slices[0] ?? []);
    honest = [];
    for (let i = 0; i < HONEST; i++) {
      const { vector, segment } = encodeKmeansContribution(Float32Array.from(x), centroids, round.encoding);
      expect(segment).toBe(0);
      honest.push(await handBuiltReport(round, { vector }, deviceId('honest', i), 0));
    }
    // At the proved limit: the attacked coordinate at the edge of [−128, 128), the count at −128 (about −2 devices).
    const L = vectorLength('kmeans', round.k, round.d);
    const crafted = new Int32Array(L);
    crafted[j] = sign > 0 ? SUMVEC_OFFSET - 1 : -SUMVEC_OFFSET;
    crafted[round.d] = -SUMVEC_OFFSET;
    atLimit = [];
    forged = [];
    for (let i = 0; i < CRAFTED; i++) {
      atLimit.push(await handBuiltReport(round, { vector: crafted }, deviceId('limit', i), 0));
      // Beyond it: bit 0 of the attacked entry is ±1,000,000 instead of 0 or 1.
      const encoded = sumVecEncoding(round, crafted);
      encoded[j * 8] = fieldFromSigned(sign * FORGED_UNITS);
      forged.push(await handBuiltReport(round, { forged: encoded }, deviceId('forged', i), 0));
    }
    statuses = { honest: await upload(honest.map((r) => r.body)), atLimit: await upload(atLimit.map((r) => r.body)), forged: await upload(forged.map((r) => r.body)) };
  }, (ROUND_S - 10) * 1000);

  it('every report is stored for verification (202), forged ones included: the leader cannot tell before the helper’s preparation share', () => {
    expect(statuses.honest.every((s) => s === 202)).toBe(true);
    expect(statuses.atLimit).toEqual(new Array(CRAFTED).fill(202));
    expect(statuses.forged).toEqual(new Array(CRAFTED).fill(202));
  });

  it('a device cannot choose its group: a body naming one is refused as an unknown field', async () => {
    const { vector } = encodeKmeansContribution(Float32Array.from(x), flattenCentroids(round.slices[0] ?? []), round.encoding);
    const report = await handBuiltReport(round, { vector }, deviceId('group', 0), 0);
    const res = await post({ ...report.body, group: 0 });
    const text = await res.text();
    // invalid-body is this API's 422 (problem+json), as for every other schema violation.
    expect(res.status, text).toBe(422);
    expect(JSON.parse(text)).toMatchObject({ type: 'https://edgeseg.dev/problems/invalid-body', detail: 'group: unknown field' });
    // The same report without the field is taken: it was only the group that was refused.
    expect((await post(report.body)).status).toBe(202);
    honest.push(report);
  });

  it('a report id is taken once: the same report again, or new shares under a used id, is refused', async () => {
    const first = honest[0] as HandBuiltReport;
    const replay = await post(first.body);
    expect(replay.status, await replay.text()).toBe(409);
    const { vector } = encodeKmeansContribution(Float32Array.from(x), flattenCentroids(round.slices[0] ?? []), round.encoding);
    const again = await handBuiltReport(round, { vector }, first.body.id, 0);
    const reused = await post(again.body);
    expect(reused.status, await reused.text()).toBe(409);
  });

  it('no public answer shows the round’s verify key (groups stay unpredictable to devices)', async () => {
    for (const path of ['/v1/rounds', '/v1/rounds/current', '/v1/privacy-ledger']) {
      const text = await (await fetch(`${stack.baseUrl}${path}`)).text();
      expect(text, path).not.toMatch(/verify_key|verifyKey/);
    }
  });

  it('released: forged reports rejected, crafted-at-the-limit ones counted, the centroid coordinate within the proved bound of the honest mean', { timeout: (ROUND_S + 120) * 1000 }, async () => {
    const before = await verifiedModel(stack.baseUrl);
    closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500, limitMs: (ROUND_S + 90) * 1000 });
    expect(closed.state, closed.reason ?? '').toBe('released');
    const honestN = honest.length;
    expect(closed.contributions, 'honest and at-limit reports counted, forged ones not').toBe(honestN + CRAFTED);
    const buckets = closed.buckets ?? {};
    expect(Object.values(buckets).reduce((a, b) => a + b, 0)).toBe(honestN + CRAFTED);
    expect(closed.rejected, 'the forged reports, rejected in the preparation exchange').toBe(CRAFTED);

    const after = await verifiedModel(stack.baseUrl);
    expect(after.version).toBe(before.version + 1);
    expect(closed.result?.kept[0]).toBe(false);
    const released = after.centroids[0]?.[j] as number;
    const truth = x[j] as number;

    // The bound: per released bucket g of n_g reports, at most m = 5 crafted ones (the
    // verify key, not the device, places them), each moving the coordinate sum by at most
    // 128 units (128/s_coords real units) and the count by at most 128/s_count devices.
    // The group mean then moves by at most m·(a + b·|x|)/(n_g − m − m·b); the centroid is
    // that mean (one group, the default), or with G groups their median, which moves by at
    // most the largest of these. Noise:
    // both aggregators' σ² per entry, through the same ratio; rounding: 1/2 unit per device.
    const s = encodingScales(round.encoding, round.d);
    const a = SUMVEC_OFFSET / s.coords;
    const b = SUMVEC_OFFSET / s.count;
    const [num, den] = closed.sigma2.split('/').map(Number) as [number, number];
    const noiseSd = Math.sqrt(2 * (num / den));
    let allowed = 0;
    for (const n of Object.values(buckets)) {
      const m = Math.min(CRAFTED, n);
      const denominator = n - m - m * b;
      const shift = (m * (a + b * Math.abs(truth))) / denominator;
      const noise = (noiseSd / s.coords + (Math.abs(truth) * noiseSd) / s.count) / denominator;
      const rounding = 0.5 / (s.coords * Math.sqrt(n - m));
      allowed = Math.max(allowed, shift + SIGMAS * (noise + rounding));
    }
    const moved = Math.abs(released - truth);
    console.info(`malicious devices: coordinate ${j} honest ${truth.toFixed(4)}, released ${released.toFixed(4)}, moved ${moved.toFixed(4)}, allowed ${allowed.toFixed(4)} (one report: ${a.toFixed(3)} in a coordinate sum, ${b.toFixed(3)} devices in a count)`);
    expect(moved).toBeLessThanOrEqual(allowed);
    // What the forged reports claimed, had they been summed: about FORGED_UNITS/s_coords per report in one group's sum.
    expect(allowed).toBeLessThan(FORGED_UNITS / s.coords / Math.max(...Object.values(buckets)));
  });
});

describe('counts: a forged histogram and a tampered share, through the helper’s preparation exchange', () => {
  let leader: MaliciousLeader;
  let round: RoundDescriptor;
  let honest: HandBuiltReport[];
  let truth: number[];
  let forged: HandBuiltReport;
  let tampered: HandBuiltReport;

  beforeAll(async () => {
    // The test is the leader here (leader token, its own HPKE key, the round's verify key), honest in every step.
    leader = await MaliciousLeader.create(stack.helperUrl, stack.leaderToken);
    const k = 4;
    const base = leader.descriptor(`md-counts-${crypto.randomUUID().slice(0, 8)}`, COUNTS_ROUND_S);
    round = {
      ...base,
      kind: 'counts',
      k,
      d: 0,
      slices: [[[], [], [], []]],
      groups: 1,
      encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
      epsilon: 1,
      period: isoWeekPeriod(Date.now()),
    };
    truth = new Array<number>(k + 1).fill(0);
    honest = [];
    for (let i = 0; i < COUNTS_HONEST; i++) {
      const segment = i % 5 === 4 ? null : i % k;
      truth[segment ?? k] = (truth[segment ?? k] as number) + 1;
      honest.push(await handBuiltReport(round, { vector: encodeCountContribution(segment, k, 1) }, deviceId('count', i), 0));
    }
    // A million viewers in segment 2: the histogram's one-hot encoding with 1,000,000 in place of 1.
    const million = zeroFieldVector(k + 1);
    million[2] = BigInt(FORGED_UNITS);
    forged = await handBuiltReport(round, { forged: million }, deviceId('million', 0), 0);
    tampered = await handBuiltReport(round, { vector: encodeCountContribution(1, k, 1) }, deviceId('tampered', 0), 0, { tamperLeader: true });
    const opened = await leader.openRound(round);
    expect(opened.status, await opened.clone().text()).toBe(201);
    await opened.body?.cancel();
  }, 60_000);

  it('the helper verifies each honest report and rejects the forged and the tampered one', async () => {
    const all = [...honest, forged, tampered];
    const items = await Promise.all(all.map(async (r) => relayItemOf(r.body, await prepareAs(round, leader.verifyKey, 0, r))));
    const res = await leader.relay(round.round_id, items);
    const answer = (await res.json()) as RelayAnswer;
    expect(res.status, JSON.stringify(answer)).toBe(200);
    expect(answer.verified).toEqual(honest.map((r) => r.body.id));
    expect(answer.rejected).toEqual([forged.body.id, tampered.body.id]);
  });

  it('released after the close: the helper holds only the honest reports, and each segment is the truth plus its noise', { timeout: (COUNTS_ROUND_S + 30) * 1000 }, async () => {
    const waitMs = (round.closes_at + 1) * 1000 - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    const bucket = (r: HandBuiltReport) => ({ id: r.body.id, slice: 0, group: 0 });
    // A batch that claims the forged reports too does not match what the helper stored.
    await expectRefusal(await leader.aggregate(round.round_id, await selectorFor([...honest, forged, tampered].map(bucket))), 409, 'release-refused', 'batch-mismatch');
    const res = await leader.aggregate(round.round_id, await selectorFor(honest.map(bucket)));
    const release = (await res.json()) as HelperRelease;
    expect(res.status, JSON.stringify(release)).toBe(200);
    expect(release.counts['0:0']).toBe(COUNTS_HONEST);
    // The leader's own sum of its verified output shares (this honest stand-in adds no noise of its own).
    const leaderSum = zeroFieldVector(vectorLength('counts', round.k, round.d));
    for (const r of honest) addFieldInto(leaderSum, (await prepareAs(round, leader.verifyKey, 0, r)).outputShare);
    const helperShare = decodeFieldVector(new Uint8Array(Buffer.from(release.shares['0:0'] as string, 'base64')));
    const counts = decodeCountAggregate(combineFieldShares(leaderSum, helperShare), round.k, round.encoding.bound);
    const [num, den] = release.sigma2.split('/').map(Number) as [number, number];
    const sd = Math.sqrt(num / den);
    for (let i = 0; i <= round.k; i++) expect(Math.abs((counts[i] as number) - (truth[i] as number)), `segment ${i}: ${counts[i]} vs ${truth[i]}`).toBeLessThanOrEqual(SIGMAS * sd);
  });
});
