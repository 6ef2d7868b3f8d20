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
  type HpkePrivateJwk,
  type HpkeRecipientKey,
} from '@edgeseg/shared/secure';
import type { ContributionEncoding, HpkeConfig, SecureContribution } from '@edgeseg/shared';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
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

function roundOf(kind: 'counts' | 'kmeans', input: Prio3SampleInput, agg: { hpke: { leader: HpkeConfig; helper: HpkeConfig } }, slices: number[][][]): RoundDescriptor {
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

/** Everything a thread needs to run part of the sample: plain data, so it crosses to a worker. */
export interface Prio3SampleShard {
  counts: RoundDescriptor;
  kmeans: RoundDescriptor;
  keys: { leader: HpkePrivateJwk; helper: HpkePrivateJwk };
  verifyKey: Uint8Array;
  seed: number;
  d: number;
  /** Devices [from, to) send a counts report; [kFrom, kTo) also a k-means one. */
  from: number;
  to: number;
  kFrom: number;
  kTo: number;
  /** Segments of devices [from, to), and feature rows of devices [kFrom, kTo). */
  labels: Int32Array;
  rows: Float32Array;
}

/** What one thread's part adds up to: verified output-share sums, the truth they must equal, and time totals in ms. */
export interface Prio3ShardResult {
  leaderSum: bigint[];
  helperSum: bigint[];
  truth: number[];
  shard: number;
  prep: number;
  kShard: number;
  kPrep: number;
}

/**
 * Runs devices [from, to) of the sample (and the k-means sub-sample [kFrom, kTo)): builds
 * each report as a device does, has both aggregators open, prepare and verify it, and
 * checks each k-means report's verified shares against its encoding. Used on the main
 * thread and in `prio3-worker.ts`.
 *
 * @example
 * const part = await runPrio3Shard(shard);
 */
export async function runPrio3Shard(p: Prio3SampleShard): Promise<Prio3ShardResult> {
  const { counts, kmeans, d } = p;
  const agg: Aggregators = {
    leaderKey: await importHpkePrivateKey(p.keys.leader),
    helperKey: await importHpkePrivateKey(p.keys.helper),
    verifyKey: p.verifyKey,
  };
  const [countsDigest, kmeansDigest] = await Promise.all([roundDigest(counts), roundDigest(kmeans)]);
  const k = counts.k;
  const leaderSum = zeroFieldVector(k + 1);
  const helperSum = zeroFieldVector(k + 1);
  const truth = new Array<number>(k + 1).fill(0);
  let shard = 0;
  let prep = 0;
  for (let i = p.from; i < p.to; i++) {
    const segment = p.labels[i - p.from] as number;
    const t = performance.now();
    const body = await buildSecureCountContribution(counts, segment, idOf(i), seededRandom(deviceSeed(p.seed, i)));
    shard += performance.now() - t;
    const shares = await aggregate(counts, body, agg, countsDigest);
    prep += shares.ms / 2;
    addFieldInto(leaderSum, shares.leader);
    addFieldInto(helperSum, shares.helper);
    truth[segment] = (truth[segment] as number) + 1;
  }
  const flat = flattenCentroids(kmeans.slices[0] ?? []);
  let kShard = 0;
  let kPrep = 0;
  for (let i = p.kFrom; i < p.kTo; i++) {
    const x = p.rows.subarray((i - p.kFrom) * d, (i - p.kFrom) * d + d);
    const t = performance.now();
    const { body } = await buildSecureContribution(kmeans, x, idOf(i), seededRandom(deviceSeed(p.seed, i)));
    kShard += performance.now() - t;
    const shares = await aggregate(kmeans, body, agg, kmeansDigest);
    kPrep += shares.ms / 2;
    // The same device randomness re-encodes the same vector (the slice draw first, as buildSecureContribution does).
    const random = seededRandom(deviceSeed(p.seed, i));
    random(new Uint32Array(1));
    const expected = encodeKmeansContribution(x, flat, kmeans.encoding, random).vector;
    const got = removeOffset('kmeans', combineFieldShares(shares.leader, shares.helper), 1);
    if (!got.every((v, j) => v === expected[j])) throw new Error(`--prio3-sample: device ${i}'s verified k-means shares do not add up to its encoding`);
  }
  return { leaderSum, helperSum, truth, shard, prep, kShard, kPrep };
}

/** Below this many sampled devices one thread does it all: starting workers would cost more. */
const THREADS_FROM = 200;

function inWorker(shard: Prio3SampleShard): Promise<Prio3ShardResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./prio3-worker.ts', import.meta.url), { workerData: shard });
    let result: Prio3ShardResult | null = null;
    worker.on('message', (m: Prio3ShardResult) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`prio3 sample worker exited with ${code}`))));
  });
}

/**
 * Runs the sample and checks it: the verified shares of the counts reports add up to the
 * sampled devices' segment histogram, and each k-means report's shares to its encoding.
 * From 200 sampled devices the devices are split over one worker thread per core, each
 * timing its own reports (so per-report times are not inflated by sharing a core).
 *
 * @example
 * result.prio3 = await runPrio3Sample({ devices: 1000, matrix, d, k, centroids, labels, groups: 1, encoding, epsilon: 1, delta: 1e-9, seed: 1 });
 */
export async function runPrio3Sample(input: Prio3SampleInput, options: { threads?: number } = {}): Promise<Prio3Sample> {
  const { k, d } = input;
  const n = Math.min(input.devices, input.labels.length);
  const [l, h] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const agg = { hpke: { leader: l.config, helper: h.config } };
  const verifyKey = newVerifyKey();
  const slice = Array.from({ length: k }, (_, c) => Array.from(input.centroids.subarray(c * d, c * d + d)));
  const counts = roundOf('counts', input, agg, [slice]);
  const kmeans = roundOf('kmeans', input, agg, [slice]);
  // K-means: a sub-sample (a SumVec report is about 40× a histogram's work).
  const m = Math.max(1, Math.floor(n / 50));
  const threads = Math.max(1, Math.min(options.threads ?? (n >= THREADS_FROM ? availableParallelism() : 1), n, m));
  const parts: Prio3SampleShard[] = Array.from({ length: threads }, (_, t) => {
    const [from, to] = [Math.floor((n * t) / threads), Math.floor((n * (t + 1)) / threads)];
    const [kFrom, kTo] = [Math.floor((m * t) / threads), Math.floor((m * (t + 1)) / threads)];
    return { counts, kmeans, keys: { leader: l.privateKeyJwk, helper: h.privateKeyJwk }, verifyKey, seed: input.seed, d, from, to, kFrom, kTo, labels: input.labels.slice(from, to), rows: input.matrix.slice(kFrom * d, kTo * d) };
  });
  const results = threads > 1 ? await Promise.all(parts.map(inWorker)) : [await runPrio3Shard(parts[0] as Prio3SampleShard)];
  const leaderSum = zeroFieldVector(k + 1);
  const helperSum = zeroFieldVector(k + 1);
  const truth = new Array<number>(k + 1).fill(0);
  for (const r of results) {
    addFieldInto(leaderSum, r.leaderSum);
    addFieldInto(helperSum, r.helperSum);
    r.truth.forEach((c, j) => (truth[j] = (truth[j] as number) + c));
  }
  const released = Array.from(combineFieldShares(leaderSum, helperSum));
  if (released.some((v, j) => v !== truth[j])) throw new Error('--prio3-sample: the verified counts shares do not add up to the sampled devices’ segments');
  const total = (key: 'shard' | 'prep' | 'kShard' | 'kPrep'): number => results.reduce((a, r) => a + r[key], 0);
  return {
    devices: n,
    shardMs: n ? total('shard') / n : 0,
    prepMs: n ? total('prep') / n : 0,
    kmeans: { devices: m, shardMs: total('kShard') / m, prepMs: total('kPrep') / m },
  };
}

function idOf(i: number): string {
  return `sim-device-${String(i).padStart(10, '0')}`;
}
