import { beforeAll, describe, expect, it } from 'vitest';
import { flattenCentroids } from '../assign.ts';
import { randomBelow, seededRandom, standardNormal } from '../random.ts';
import type { RoundDescriptor, SecureContribution } from '../rounds.ts';
import { base64urlLength } from './bytes.ts';
import {
  MAX_CONTRIBUTION_BODY_BYTES,
  MAX_SECURE_KMEANS_LENGTH,
  buildSecureContribution,
  buildSecureCountContribution,
  parseHpkeConfig,
  parseLocalContribution,
  parseRoundDescriptor,
  parseSecureContribution,
  secureReportBytes,
} from './contribution.ts';
import { decodeCountAggregate, decodeKmeansAggregate, encodeKmeansContribution, encodingScales, vectorLength } from './encode.ts';
import { generateHpkeKeyPair, importHpkePrivateKey, type HpkeRecipientKey } from './hpke.ts';
import { addFieldInto, combineFieldShares, zeroFieldVector } from './field.ts';
import { openAndPrepare } from './open-report.ts';
import { newVerifyKey, removeOffset, reportGroup, vdafFor, verifyReport } from './prio3.ts';
import { roundDigest } from './round-digest.ts';

const K = 4;
const D = 6;
const centres = [
  [2, 0, 0, 1, 0, -1],
  [-2, 1, 0, 0, 1, 0],
  [0, -2, 2, 0, 0, 1],
  [0, 0, -2, -1, -1, 0],
];
/** Two candidate slices (initialisation), each k × d. */
const slices = [centres, centres.map((row) => row.map((v) => v * 0.8 + 0.1))];

let leaderKey: HpkeRecipientKey;
let helperKey: HpkeRecipientKey;
let round: RoundDescriptor;
let digest: Uint8Array;

beforeAll(async () => {
  const leader = await generateHpkeKeyPair(1);
  const helper = await generateHpkeKeyPair(2);
  leaderKey = await importHpkePrivateKey(leader.privateKeyJwk);
  helperKey = await importHpkePrivateKey(helper.privateKeyJwk);
  round = {
    round_id: 'kmeans-2026-W48.3',
    kind: 'kmeans',
    mode: 'secure',
    model_version: 3,
    k: K,
    d: D,
    slices,
    groups: 3,
    encoding: { clip: 3, bound: 127, weights: { coords: 0.8, count: 0.4, sqdist: 0.3, silhouette: 0.3 } },
    epsilon: 1,
    delta: 1e-9,
    opens_at: 1_899_996_400,
    closes_at: 1_900_000_000,
    min_batch: 100,
    hpke: { leader: leader.config, helper: helper.config },
  };
  digest = await roundDigest(round);
});

const idOf = (i: number) => `device-${String(i).padStart(10, '0')}`;

/**
 * Both aggregators in process, as the leader's ingest and the helper's relay run a
 * report: open, prepare, verify; a verified report's output shares (field vectors).
 */
async function aggregate(r: RoundDescriptor, body: SecureContribution, verifyKey: Uint8Array, d: Uint8Array): Promise<{ leader: bigint[]; helper: bigint[] } | null> {
  const vdaf = vdafFor(r.kind, r.k, r.d);
  const l = await openAndPrepare(r, d, verifyKey, 'leader', leaderKey, { ...body, sealed: body.leader });
  const h = await openAndPrepare(r, d, verifyKey, 'helper', helperKey, { ...body, sealed: body.helper });
  if (!(await verifyReport(vdaf, l.prepShare, h.prepShare, l.jointRandSeed, h.jointRandSeed))) return null;
  return { leader: l.outputShare, helper: h.outputShare };
}

describe('secure contributions end to end (500 simulated devices, leader + helper in process)', () => {
  it('the aggregate is exactly the sum of the encoded vectors and decodes to the true clipped cluster means', async () => {
    const N = 500;
    const L = vectorLength('kmeans', K, D);
    const normals = seededRandom(1234);
    const g = () => standardNormal(normals);
    const bucketKey = (slice: number, group: number) => `${slice}:${group}`;
    const verifyKey = newVerifyKey();
    const leaderSums = new Map<string, bigint[]>();
    const helperSums = new Map<string, bigint[]>();
    const counts = new Map<string, number>();
    const expected = new Map<string, Float64Array>(); // Σ encoded vectors, per bucket
    // Ground truth per slice: Σ clipped x, count, Σ clipped squared distance, Σ silhouette per cluster.
    const truth = slices.map(() => ({ sum: new Float64Array(K * D), n: new Float64Array(K), sq: new Float64Array(K), sil: new Float64Array(K) }));

    for (let i = 0; i < N; i++) {
      const c = i % K;
      const spread = i % 10 === 0 ? 6 : 0.7; // every tenth device far out: clipped
      const x = Float32Array.from(centres[c]!, (m) => m + spread * g());
      const random = seededRandom(10_000 + i);
      const { body, segment } = await buildSecureContribution(round, x, idOf(i), random);

      // The wire body passes the server's validator, with exact ciphertext lengths.
      expect(parseSecureContribution(JSON.parse(JSON.stringify(body)), round)).toEqual({ ok: true, value: body });

      // Replay the device's documented draws (slice, then the encoding's rounding) to get the vector it encoded.
      const replay = seededRandom(10_000 + i);
      const slice = randomBelow(slices.length, replay);
      expect(body.slice).toBe(slice);
      const { vector } = encodeKmeansContribution(x, flattenCentroids(slices[slice]!), round.encoding, replay);

      // Independent ground truth: clip in float64, nearest centroid, distances.
      const nx = Math.hypot(...x);
      const xc = Array.from(x, (v) => (nx > round.encoding.clip ? (v * round.encoding.clip) / nx : v));
      const dist2 = slices[slice]!.map((row) => row.reduce((s, m, j) => s + (xc[j]! - m) ** 2, 0));
      const own = dist2.indexOf(Math.min(...dist2));
      expect(segment).toBe(own);
      const a = Math.sqrt(dist2[own]!);
      const b = Math.sqrt(Math.min(...dist2.filter((_, j) => j !== own)));
      const t = truth[slice]!;
      xc.forEach((v, j) => (t.sum[own * D + j]! += v));
      t.n[own]! += 1;
      t.sq[own]! += Math.min(a * a, (2 * round.encoding.clip) ** 2);
      t.sil[own]! += (b - a) / b;

      // Both aggregators: open, prepare, verify; the group comes from the id, not the device.
      const key = bucketKey(body.slice, await reportGroup(verifyKey, body.id, round.groups));
      const shares = await aggregate(round, body, verifyKey, digest);
      expect(shares).not.toBeNull();
      addFieldInto(leaderSums.get(key) ?? leaderSums.set(key, zeroFieldVector(L)).get(key)!, shares!.leader);
      addFieldInto(helperSums.get(key) ?? helperSums.set(key, zeroFieldVector(L)).get(key)!, shares!.helper);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      // One device's shares recombine exactly to its vector.
      if (i < 20) expect(Array.from(removeOffset('kmeans', combineFieldShares(shares!.leader, shares!.helper), 1))).toEqual(Array.from(vector));
      const e = expected.get(key) ?? expected.set(key, new Float64Array(L)).get(key)!;
      vector.forEach((v, j) => (e[j]! += v));
    }

    // Recombine per bucket: exactly the sum of the encoded vectors.
    expect([...leaderSums.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(leaderSums.size).toBe(slices.length * round.groups);
    const decodedBySlice = slices.map(() => ({ sum: new Float64Array(K * D), n: new Float64Array(K), sq: new Float64Array(K), sil: new Float64Array(K) }));
    for (const [key, sums] of leaderSums) {
      const combined = removeOffset('kmeans', combineFieldShares(sums, helperSums.get(key)!), counts.get(key)!);
      expect(Array.from(combined)).toEqual(Array.from(expected.get(key)!));
      const agg = decodeKmeansAggregate(combined, K, D, round.encoding);
      const acc = decodedBySlice[Number(key.split(':')[0])]!;
      agg.coordSums.forEach((v, j) => (acc.sum[j]! += v));
      agg.counts.forEach((v, c) => (acc.n[c]! += v));
      agg.sqdist.forEach((v, c) => (acc.sq[c]! += v));
      agg.silhouette.forEach((v, c) => (acc.sil[c]! += v));
    }

    // Decoded means vs the true means of the clipped vectors. Each device's entry moved by
    // less than 1 integer unit in rounding, so a mean over n devices is off by less than
    // 1/scale in real units, for every draw (here 1/scale.coords ≈ 0.03).
    const s = encodingScales(round.encoding, D);
    let clusters = 0;
    slices.forEach((_, sl) => {
      const t = truth[sl]!;
      const got = decodedBySlice[sl]!;
      expect(Array.from(got.n)).toEqual(Array.from(t.n)); // counts are exact
      for (let c = 0; c < K; c++) {
        const n = t.n[c]!;
        if (n === 0) continue;
        clusters++;
        for (let j = 0; j < D; j++) {
          expect(Math.abs(got.sum[c * D + j]! / n - t.sum[c * D + j]! / n)).toBeLessThan(1 / s.coords);
        }
        expect(Math.abs(got.sq[c]! / n - t.sq[c]! / n)).toBeLessThan(1 / s.sqdist);
        expect(Math.abs(got.sil[c]! / n - t.sil[c]! / n)).toBeLessThan(1 / s.silhouette);
      }
    });
    expect(clusters).toBe(2 * K);
  }, 60_000);

  it('a counts round: one-hot segment counts come back exactly', async () => {
    const countsRound: RoundDescriptor = { ...round, round_id: 'counts-2026-W48', kind: 'counts', period: '2026-W48', slices: [centres], encoding: { ...round.encoding, bound: 1 } };
    const L = vectorLength('counts', K, D);
    const verifyKey = newVerifyKey();
    const leaderAcc = zeroFieldVector(L);
    const helperAcc = zeroFieldVector(L);
    const countsDigest = await roundDigest(countsRound); // another configuration: another digest
    const segments = [0, 1, 1, 2, 3, 3, 3, null, null, 0];
    for (const [i, seg] of segments.entries()) {
      const body = await buildSecureCountContribution(countsRound, seg, idOf(i), seededRandom(i));
      expect(parseSecureContribution(body, countsRound).ok).toBe(true);
      const shares = await aggregate(countsRound, body, verifyKey, countsDigest);
      addFieldInto(leaderAcc, shares!.leader);
      addFieldInto(helperAcc, shares!.helper);
    }
    expect(Array.from(decodeCountAggregate(removeOffset('counts', combineFieldShares(leaderAcc, helperAcc), segments.length), K, 1))).toEqual([2, 2, 1, 3, 2]);
  });

  it('a report sealed for another configuration does not open', async () => {
    const { body } = await buildSecureContribution(round, new Float32Array(D), idOf(1));
    await expect(aggregate(round, body, newVerifyKey(), await roundDigest({ ...round, epsilon: 2 }))).rejects.toThrow();
  });

  it('refuses to build for a local round, the wrong kind or the wrong feature count', async () => {
    await expect(buildSecureContribution({ ...round, mode: 'local', local_sigma2: 4 }, new Float32Array(D), idOf(1))).rejects.toThrow(RangeError);
    await expect(buildSecureContribution({ ...round, kind: 'counts' }, new Float32Array(D), idOf(1))).rejects.toThrow(RangeError);
    await expect(buildSecureContribution(round, new Float32Array(D + 1), idOf(1))).rejects.toThrow(RangeError);
    await expect(buildSecureCountContribution(round, 0, idOf(1))).rejects.toThrow(RangeError);
  });
});

describe('parseSecureContribution', () => {
  let body: SecureContribution;
  beforeAll(async () => {
    body = (await buildSecureContribution(round, new Float32Array(D), idOf(7), seededRandom(7))).body;
  });

  it('accepts a built body; ciphertexts are the input shares + 16 bytes (the helper’s: three seeds)', () => {
    expect(parseSecureContribution(body, round).ok).toBe(true);
    expect(parseSecureContribution(body).ok).toBe(true);
    expect(body.leader.ct.length).toBe(base64urlLength(secureReportBytes('kmeans', K, D).leader));
    expect(body.helper.ct.length).toBe(base64urlLength(3 * 16 + 16));
    expect(body.public_share.length).toBe(base64urlLength(32));
  });

  it.each<[string, (b: SecureContribution) => unknown]>([
    ['a non-object', () => 'x'],
    ['an extra field', (b) => ({ ...b, device: 'tv-1' })],
    ['a short id', (b) => ({ ...b, id: 'short' })],
    ['an id with other characters', (b) => ({ ...b, id: 'abcdefghijklmnop!' })],
    ['a bad round_id', (b) => ({ ...b, round_id: 'r 1' })],
    ['a negative slice', (b) => ({ ...b, slice: -1 })],
    ['a group (the aggregators derive it)', (b) => ({ ...b, group: 0 })],
    ['a public share of another length', (b) => ({ ...b, public_share: b.public_share.slice(2) })],
    ['no public share', ({ public_share: _p, ...rest }) => rest],
    ['a missing helper', ({ helper: _h, ...rest }) => rest],
    ['a leader ct of another length', (b) => ({ ...b, leader: { ...b.leader, ct: `${b.leader.ct}AAAA` } })],
    ['a helper ct of another length', (b) => ({ ...b, helper: { ...b.helper, ct: b.helper.ct.slice(4) } })],
    ['a ct with padding', (b) => ({ ...b, helper: { ...b.helper, ct: `${b.helper.ct.slice(1)}=` } })],
    ['an enc of the wrong length', (b) => ({ ...b, leader: { ...b.leader, enc: b.leader.enc.slice(1) } })],
    ['a config_id out of range', (b) => ({ ...b, leader: { ...b.leader, config_id: 256 } })],
    ['an extra sealed field', (b) => ({ ...b, leader: { ...b.leader, kem: 16 } })],
  ])('refuses %s', (_, mutate) => {
    expect(parseSecureContribution(mutate(body), round).ok).toBe(false);
  });

  it('caps the leader ct at the body cap when the round is unknown', () => {
    const huge = { ...body, leader: { ...body.leader, ct: 'A'.repeat(MAX_CONTRIBUTION_BODY_BYTES + 1) } };
    expect(parseSecureContribution(huge).ok).toBe(false);
  });
});

describe('parseLocalContribution', () => {
  const ok = { round_id: 'r1', id: idOf(1), slice: 0, noised: [1, -2, 3] };
  it('accepts int32 values of the expected length', () => {
    expect(parseLocalContribution(ok, 3)).toEqual({ ok: true, value: ok });
  });
  it.each<[string, unknown]>([
    ['a wrong length', { ...ok, noised: [1, 2] }],
    ['a float', { ...ok, noised: [1, 2.5, 3] }],
    ['an int32 overflow', { ...ok, noised: [1, 2 ** 31, 3] }],
    ['a string', { ...ok, noised: [1, '2', 3] }],
    ['an extra field', { ...ok, leader: {} }],
    ['no noised', { round_id: 'r1', id: idOf(1), slice: 0 }],
    ['a group (the leader derives it)', { ...ok, group: 2 }],
  ])('refuses %s', (_, v) => {
    expect(parseLocalContribution(v, 3).ok).toBe(false);
  });
});

/** `r` as a counts round of its k (one-hot entries, bound 1, a week). */
function countsOf(r: RoundDescriptor): RoundDescriptor {
  return { ...r, kind: 'counts', d: 0, slices: [r.slices[0]!.map(() => [])], encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } }, period: '2026-W48' };
}

describe('parseRoundDescriptor', () => {
  it('accepts the round of the tests, and a local round', () => {
    expect(parseRoundDescriptor(JSON.parse(JSON.stringify(round)))).toEqual({ ok: true, value: round });
    const local = { ...round, mode: 'local', local_sigma2: 2.5, hpke: { leader: round.hpke.leader } };
    expect(parseRoundDescriptor(local).ok).toBe(true);
  });

  it.each<[string, (r: RoundDescriptor) => unknown]>([
    ['an extra field', (r) => ({ ...r, seed: 1 })],
    ['an unknown kind', (r) => ({ ...r, kind: 'median' })],
    ['k = 0', (r) => ({ ...r, k: 0 })],
    ['a slice with the wrong k', (r) => ({ ...r, slices: [r.slices[0]!.slice(1)] })],
    ['a centroid with the wrong d', (r) => ({ ...r, slices: [r.slices[0]!.map((row) => row.slice(1))] })],
    ['a non-finite centroid', (r) => ({ ...r, slices: [r.slices[0]!.map((row) => [...row.slice(1), null])] })],
    ['no slices', (r) => ({ ...r, slices: [] })],
    ['0 groups', (r) => ({ ...r, groups: 0 })],
    ['an invalid encoding', (r) => ({ ...r, encoding: { ...r.encoding, bound: 0 } })],
    ['an encoding too coarse for d', (r) => ({ ...r, encoding: { ...r.encoding, bound: 4 } })],
    ['a secure k-means bound beyond the proved range', (r) => ({ ...r, encoding: { ...r.encoding, bound: 128 } })],
    ['epsilon 0', (r) => ({ ...r, epsilon: 0 })],
    ['delta 1', (r) => ({ ...r, delta: 1 })],
    ['no open time', (r) => ({ ...r, opens_at: undefined })],
    ['a close before the open', (r) => ({ ...r, opens_at: r.closes_at })],
    ['no minimum batch', (r) => ({ ...r, min_batch: undefined })],
    ['a minimum batch of 0', (r) => ({ ...r, min_batch: 0 })],
    ['a secure round without a helper', (r) => ({ ...r, hpke: { leader: r.hpke.leader } })],
    ['a local round without sigma²', (r) => ({ ...r, mode: 'local' })],
    ['a secure round with sigma²', (r) => ({ ...r, local_sigma2: 3 })],
    ['an HPKE config of another suite', (r) => ({ ...r, hpke: { ...r.hpke, leader: { ...r.hpke.leader, kem_id: 32 } } })],
    ['a compressed public key', (r) => ({ ...r, hpke: { ...r.hpke, leader: { ...r.hpke.leader, public_key: r.hpke.leader.public_key.slice(0, 44) } } })],
    ['a vector too long', (r) => ({ ...r, k: 64, d: 128, slices: [Array.from({ length: 64 }, () => new Array(128).fill(0))] })],
    ['a k-means round that names a measure', (r) => ({ ...r, measure: 'lifecycle' })],
    ['a counts round of an unknown measure', (r) => ({ ...countsOf(r), measure: 'ratings' })],
    ['a counts round that names segments explicitly (absent means segments)', (r) => ({ ...countsOf(r), measure: 'segment' })],
  ])('refuses %s', (_, mutate) => {
    expect(parseRoundDescriptor(mutate(round)).ok).toBe(false);
  });

  it('accepts counts rounds of each measure, segments without the field', () => {
    expect(parseRoundDescriptor(countsOf(round)).ok).toBe(true);
    expect(parseRoundDescriptor({ ...countsOf(round), measure: 'lifecycle' }).ok).toBe(true);
    expect(parseRoundDescriptor({ ...countsOf(round), measure: 'impressions' }).ok).toBe(true);
  });

  it('refuses a secure k-means round whose report would not fit the body cap, and the longest allowed one fits', () => {
    const wide = (k: number, d: number) => ({ ...round, k, d, slices: [Array.from({ length: k }, () => new Array(d).fill(0))] });
    expect(parseRoundDescriptor(wide(16, 52)).ok).toBe(true); // 16 · 55 = 880 entries
    expect(parseRoundDescriptor(wide(16, 53)).ok).toBe(false);
    const bytes = secureReportBytes('kmeans', 16, 52);
    expect(vectorLength('kmeans', 16, 52)).toBe(MAX_SECURE_KMEANS_LENGTH);
    // The body: the leader ct and the rest (ids, enc, public share, JSON) in well under 2 KB.
    expect(base64urlLength(bytes.leader) + 2048).toBeLessThanOrEqual(MAX_CONTRIBUTION_BODY_BYTES);
  });

  it('parseHpkeConfig accepts a generated config', () => {
    expect(parseHpkeConfig(round.hpke.leader).ok).toBe(true);
    expect(parseHpkeConfig({ ...round.hpke.leader, public_key: 'AAAA' }).ok).toBe(false);
  });
});
