/**
 * `--prio3-sample N` (secure mode): the real report path for a sample of devices, beside
 * the fast share path the other devices take. Each sampled device builds its weekly
 * counts report (a `Prio3Histogram` of its segment) exactly as the SDK does — Prio3
 * shard with a validity proof, HPKE-sealed to two aggregator keys made for the run — and
 * both aggregators open, prepare and verify it as the Workers do; every N/50-th sampled
 * device (at least one) does the same with a k-means contribution (`Prio3SumVec`, about
 * 40× the work). The verified output shares must add up exactly to what the devices
 * encoded, or the run fails: the in-process sums of the fast path stand for this path.
 *
 * Timing is per report: `shardMs` is the device's whole build (encode, shard and prove,
 * seal both shares), `prepMs` one aggregator's open and prepare (the helper's decision
 * included).
 */
import { flattenCentroids, seededRandom, type RoundDescriptor } from '@edgeseg/shared';
import {
  addFieldInto,
  buildSecureContribution,
  buildSecureCountContribution,
  combineFieldShares,
  encodeKmeansContribution,
  generateHpkeKeyPair,
  importHpkePrivateKey,
  newVerifyKey,
  openAndPrepare,
  removeOffset,
  roundDigest,
  vdafFor,
  verifyReport,
  zeroFieldVector,
  type HpkeRecipientKey,
} from '@edgeseg/shared/secure';
import type { ContributionEncoding, HpkeConfig, SecureContribution } from '@edgeseg/shared';
import { deviceSeed } from './population.ts';

/** Per-report cost of one kind of report over the sampled devices. */
export interface Prio3Cost {
  devices: number;
  /** Mean ms per report on the device: encode, shard with proof, seal. */
  shardMs: number;
  /** Mean ms per report per aggregator: open, prepare (and, on the helper, verify). */
  prepMs: number;
}

/** What `--prio3-sample` reports: the counts reports (every device sends one a week), and the k-means sub-sample. */
export interface Prio3Sample extends Prio3Cost {
  kmeans: Prio3Cost;
}

/** What the sample needs from the run. */
export interface Prio3SampleInput {
  /** Devices to sample (the first `devices` of the population). */
  devices: number;
  matrix: Float32Array;
  d: number;
  k: number;
  /** The trained centroids (k × d, row-major): the k-means round's slice. */
  centroids: Float64Array;
  /** Each device's segment under them. */
  labels: Int32Array;
  groups: number;
  encoding: ContributionEncoding;
  epsilon: number;
  delta: number;
  seed: number;
}

interface Aggregators {
  leaderKey: HpkeRecipientKey;
  helperKey: HpkeRecipientKey;
  hpke: { leader: HpkeConfig; helper: HpkeConfig };
  verifyKey: Uint8Array;
}

/** Both aggregators on one report: open, prepare, verify; the output shares of a valid report, timed. */
async function aggregate(round: RoundDescriptor, body: SecureContribution, agg: Aggregators, digest: Uint8Array): Promise<{ leader: bigint[]; helper: bigint[]; ms: number }> {
  const vdaf = vdafFor(round.kind, round.k, round.d);
  const t = performance.now();
  const leader = await openAndPrepare(round, digest, agg.verifyKey, 'leader', agg.leaderKey, { ...body, sealed: body.leader });
  const helper = await openAndPrepare(round, digest, agg.verifyKey, 'helper', agg.helperKey, { ...body, sealed: body.helper });
  if (!(await verifyReport(vdaf, leader.prepShare, helper.prepShare, leader.jointRandSeed, helper.jointRandSeed))) {
    throw new Error(`--prio3-sample: an honest report (${body.id}) failed verification`);
  }
  return { leader: leader.outputShare, helper: helper.outputShare, ms: performance.now() - t };
}

function roundOf(kind: 'counts' | 'kmeans', input: Prio3SampleInput, agg: Aggregators, slices: number[][][]): RoundDescriptor {
  const now = Math.floor(Date.now() / 1000);
  return {
    round_id: `sim-prio3-${kind}`,
    kind,
    mode: 'secure',
    model_version: 1,
    k: input.k,
    d: kind === 'kmeans' ? input.d : 0,
    slices: kind === 'kmeans' ? slices : [Array.from({ length: input.k }, () => [])],
    groups: input.groups,
    encoding: kind === 'kmeans' ? input.encoding : { ...input.encoding, bound: 1 },
    epsilon: input.epsilon,
    delta: input.delta,
    opens_at: now,
    closes_at: now + 3600,
    ...(kind === 'counts' ? { period: '2026-W49' } : {}),
    min_batch: 1,
    hpke: agg.hpke,
  };
}

/**
 * Runs the sample and checks it: the verified shares of the counts reports add up to the
 * sampled devices' segment histogram, and each k-means report's shares to its encoding.
 *
 * @example
 * result.prio3 = await runPrio3Sample({ devices: 1000, matrix, d, k, centroids, labels, groups: 8, encoding, epsilon: 1, delta: 1e-9, seed: 1 });
 */
export async function runPrio3Sample(input: Prio3SampleInput): Promise<Prio3Sample> {
  const { k, d } = input;
  const n = Math.min(input.devices, input.labels.length);
  const [l, h] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const agg: Aggregators = {
    leaderKey: await importHpkePrivateKey(l.privateKeyJwk),
    helperKey: await importHpkePrivateKey(h.privateKeyJwk),
    hpke: { leader: l.config, helper: h.config },
    verifyKey: newVerifyKey(),
  };
  const slice = Array.from({ length: k }, (_, c) => Array.from(input.centroids.subarray(c * d, c * d + d)));
  const counts = roundOf('counts', input, agg, [slice]);
  const kmeans = roundOf('kmeans', input, agg, [slice]);
  const [countsDigest, kmeansDigest] = await Promise.all([roundDigest(counts), roundDigest(kmeans)]);

  // Counts: every sampled device's weekly histogram report.
  const leaderSum = zeroFieldVector(k + 1);
  const helperSum = zeroFieldVector(k + 1);
  const truth = new Array<number>(k + 1).fill(0);
  let shard = 0;
  let prep = 0;
  for (let i = 0; i < n; i++) {
    const segment = input.labels[i] as number;
    const t = performance.now();
    const body = await buildSecureCountContribution(counts, segment, idOf(i), seededRandom(deviceSeed(input.seed, i)));
    shard += performance.now() - t;
    const shares = await aggregate(counts, body, agg, countsDigest);
    prep += shares.ms / 2;
    addFieldInto(leaderSum, shares.leader);
    addFieldInto(helperSum, shares.helper);
    truth[segment] = (truth[segment] as number) + 1;
  }
  const released = Array.from(combineFieldShares(leaderSum, helperSum));
  if (released.some((v, j) => v !== truth[j])) throw new Error('--prio3-sample: the verified counts shares do not add up to the sampled devices’ segments');

  // K-means: a sub-sample (a SumVec report is about 40× a histogram's work).
  const m = Math.max(1, Math.floor(n / 50));
  const flat = flattenCentroids(slice);
  let kShard = 0;
  let kPrep = 0;
  for (let i = 0; i < m; i++) {
    const x = input.matrix.subarray(i * d, i * d + d);
    const t = performance.now();
    const { body } = await buildSecureContribution(kmeans, x, idOf(i), seededRandom(deviceSeed(input.seed, i)));
    kShard += performance.now() - t;
    const shares = await aggregate(kmeans, body, agg, kmeansDigest);
    kPrep += shares.ms / 2;
    // The same device randomness re-encodes the same vector (the slice draw first, as buildSecureContribution does).
    const random = seededRandom(deviceSeed(input.seed, i));
    random(new Uint32Array(1));
    const expected = encodeKmeansContribution(x, flat, kmeans.encoding, random).vector;
    const got = removeOffset('kmeans', combineFieldShares(shares.leader, shares.helper), 1);
    if (!got.every((v, j) => v === expected[j])) throw new Error(`--prio3-sample: device ${i}'s verified k-means shares do not add up to its encoding`);
  }
  return {
    devices: n,
    shardMs: n ? shard / n : 0,
    prepMs: n ? prep / n : 0,
    kmeans: { devices: m, shardMs: kShard / m, prepMs: kPrep / m },
  };
}

function idOf(i: number): string {
  return `sim-device-${String(i).padStart(10, '0')}`;
}
