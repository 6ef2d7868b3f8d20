/**
 * Closing a secure k-means round over 100,000 contributions, in-process (no workerd):
 * the leader's own code path against summing the same share vectors in a plain loop.
 *
 * Ours is `closeKmeansRound` (aggregator/src/round/close.ts) with the I/O injected:
 * `gather` sums every contribution into its shard's (slice, group) bucket with
 * `addToBucket` (share + id-digest checksum), 8 shards chosen by `shardOf(id, 8)`, then
 * merges the shards with `mergeBucket` as the coordinator does; `noisy` copies a bucket
 * and adds the leader's discrete Gaussian (`addDiscreteGaussianNoise`); the close then
 * combines with the helper's aggregate (`combineShares`), decodes
 * (`decodeKmeansAggregate`) and moves the centroids (`updateCentroids`). The round record
 * comes from the Worker's own `planRound` (ε = 1, δ = 1e-9, 8 groups, one slice).
 *
 * Outside the timed section: the share vectors (real encoded contributions split into a
 * random leader share and a helper share), each id's SHA-256 digest (`idDigest` is async
 * WebCrypto, so it is precomputed, as the Worker computes it at ingest), the shard of
 * each id, and the helper's noisy aggregate (the other server's work). So the row is
 * the close cost on the leader given the stored contributions.
 *
 * The reference sums the same leader share vectors into one Uint32Array with a nested
 * loop. Both sides are checked: the bucket sums must add up to the reference sum, the
 * counts and id checksums must match what the helper holds, and the released centroids
 * must move toward the true centres the contributions were drawn around.
 */
import { flattenCentroids, seededRandom, type HpkeConfig, type ModelManifest, type RandomSource } from '@edgeseg/shared';
import { addDiscreteGaussianNoise } from '@edgeseg/shared/dp';
import { encodeKmeansContribution, vectorLength } from '@edgeseg/shared/secure';
import { addToBucket, bucketIn, idDigest, mergeBucket, xorInto, type Bucket } from '../../../aggregator/src/round/bucket.ts';
import { closeKmeansRound, type BatchSelector, type CloseDeps } from '../../../aggregator/src/round/close.ts';
import type { CentroidUpdate } from '../../../aggregator/src/round/kmeans-update.ts';
import type { RoundRecord } from '../../../aggregator/src/round/record.ts';
import { bucketKey, shardOf } from '../../../aggregator/src/round/shard-key.ts';
import { bootstrapManifest } from '../../../worker/src/bootstrap-model.ts';
import { DEFAULT_ENCODING, planRound } from '../../../worker/src/round-plan.ts';
import { interleaved, median, type Benchmark, type BenchRow } from './harness.ts';

const N = 100_000;
const SHARDS = 8;
const GROUPS = 8;
const ROUNDS = 5;
const WARMUP = 1;
const SEED = 20261124;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One round's stored contributions, as the leader's shards hold them. */
interface Fixture {
  record: RoundRecord;
  length: number;
  /** Leader share of contribution i: words [i·length, (i+1)·length). */
  shares: Uint32Array;
  views: Uint32Array[];
  digests: Uint8Array[];
  /** bucketKey of each contribution (slice 0, its group). */
  keys: string[];
  /** Contribution indices per shard, in arrival order. */
  byShard: number[][];
  /** The helper's noisy aggregate share per bucket, and the selector it holds. */
  helperShares: Record<string, Uint32Array>;
  helperSelector: BatchSelector;
  trueCentres: number[][];
}

function gaussian(random: RandomSource): () => number {
  const word = new Uint32Array(2);
  return () => {
    random(word);
    const u = ((word[0] as number) + 1) / (2 ** 32 + 1);
    const v = (word[1] as number) / 2 ** 32;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** The bootstrap model, with k centroids: its own 4, then seeded points in [−1.5, 1.5]^d. */
function manifestWithK(k: number, random: RandomSource): ModelManifest {
  const base = bootstrapManifest(Math.floor(Date.now() / 1000));
  const d = base.features.length;
  const centroids = base.centroids.slice(0, k).map((row) => [...row]);
  const words = new Uint32Array(d);
  while (centroids.length < k) {
    random(words);
    centroids.push(Array.from(words, (w) => (w / 2 ** 32) * 3 - 1.5));
  }
  const labels = Array.from({ length: k }, (_, c) => base.labels[c] ?? `segment ${c}`);
  return { ...base, k, centroids, labels };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fixture(k: number): Promise<Fixture> {
  const random = seededRandom(SEED + k);
  const gauss = gaussian(random);
  const manifest = manifestWithK(k, random);
  const dummyHpke: HpkeConfig = { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'bench' }; // never used: nothing is sealed
  const record = planRound({
    manifest,
    nowS: Math.floor(Date.now() / 1000),
    durationS: 3600,
    minBatch: 1000 / GROUPS,
    epsilon: 1,
    delta: 1e-9,
    groups: GROUPS,
    slices: 1,
    shards: SHARDS,
    encoding: DEFAULT_ENCODING,
    hpke: { leader: dummyHpke, helper: { ...dummyHpke, config_id: 2 } },
  });
  const { d, encoding } = record.descriptor;
  const length = vectorLength('kmeans', k, d);
  const previous = record.descriptor.slices[0] as number[][];
  const flat = flattenCentroids(previous);
  // The data sits around the model's centroids shifted by +0.5 on every feature.
  const trueCentres = previous.map((row) => row.map((v) => v + 0.5));

  const shares = new Uint32Array(N * length);
  const views: Uint32Array[] = [];
  const ids: string[] = [];
  const keys: string[] = [];
  const byShard: number[][] = Array.from({ length: SHARDS }, () => []);
  const helperSums = new Map<string, Uint32Array>();
  const idWords = new Uint32Array(22);
  const groupWord = new Uint32Array(1);
  const x = new Float32Array(d);
  for (let i = 0; i < N; i++) {
    random(idWords);
    const id = Array.from(idWords, (w) => ID_CHARS[w & 63]).join('');
    const centre = trueCentres[i % k] as number[];
    for (let j = 0; j < d; j++) x[j] = (centre[j] as number) + 0.3 * gauss();
    const { vector } = encodeKmeansContribution(x, flat, encoding, random);
    const share = shares.subarray(i * length, (i + 1) * length);
    random(share); // the leader's share: uniform words; the helper's is vector − share
    random(groupWord);
    const key = bucketKey(0, (groupWord[0] as number) % GROUPS);
    let h = helperSums.get(key);
    if (!h) helperSums.set(key, (h = new Uint32Array(length)));
    for (let j = 0; j < length; j++) h[j] = ((h[j] as number) + (vector[j] as number) - (share[j] as number)) >>> 0;
    views.push(share);
    ids.push(id);
    keys.push(key);
    byShard[shardOf(id, SHARDS)]?.push(i);
  }
  const digests: Uint8Array[] = [];
  for (let i = 0; i < N; i += 5000) digests.push(...(await Promise.all(ids.slice(i, i + 5000).map((id) => idDigest(id)))));

  // What the helper holds for the same batch: counts and id checksums per bucket, computed
  // here with a plain byte XOR (not the aggregator's xorInto), and its noisy sums.
  const helperXor = new Map<string, { count: number; xor: Uint8Array }>();
  for (let i = 0; i < N; i++) {
    const key = keys[i] as string;
    let e = helperXor.get(key);
    if (!e) helperXor.set(key, (e = { count: 0, xor: new Uint8Array(32) }));
    e.count++;
    const dg = digests[i] as Uint8Array;
    for (let b = 0; b < 32; b++) e.xor[b] = (e.xor[b] as number) ^ (dg[b] as number);
  }
  const helperSelector: BatchSelector = Object.fromEntries([...helperXor].map(([key, e]) => [key, { count: e.count, checksum: hex(e.xor) }]));
  const sigma2 = parseRational(record.sigma2);
  const helperShares: Record<string, Uint32Array> = {};
  for (const [key, sums] of helperSums) helperShares[key] = addDiscreteGaussianNoise(sums, sigma2);
  return { record, length, shares, views, digests, keys, byShard, helperShares, helperSelector, trueCentres };
}

function parseRational(s: string): { num: bigint; den: bigint } {
  const [num, den] = s.split('/');
  return { num: BigInt(num as string), den: BigInt(den ?? '1') };
}

interface OursRun {
  ms: number;
  gatherMs: number;
  buckets: Map<string, Bucket>;
  update: CentroidUpdate | null;
  state: string;
  contributions: number;
}

/** One timed close: fresh shards, every contribution summed, merged, noised, combined, decoded, updated. */
async function closeOnce(f: Fixture): Promise<OursRun> {
  const sigma2 = parseRational(f.record.sigma2);
  let gatherMs = 0;
  let gathered = new Map<string, Bucket>();
  let update: CentroidUpdate | null = null;
  const deps: CloseDeps = {
    async gather() {
      const t = performance.now();
      const total = new Map<string, Bucket>();
      for (const members of f.byShard) {
        const shard = new Map<string, Bucket>();
        for (const i of members) {
          addToBucket(bucketIn(shard, f.keys[i] as string, f.length), f.views[i] as Uint32Array, f.digests[i] as Uint8Array);
        }
        for (const [key, bucket] of shard) mergeBucket(bucketIn(total, key, f.length), bucket);
      }
      gatherMs = performance.now() - t;
      gathered = total;
      return total;
    },
    async helperAggregate(selector) {
      const same = JSON.stringify(Object.entries(selector).sort()) === JSON.stringify(Object.entries(f.helperSelector).sort());
      if (!same) return { ok: false, rule: 'batch-mismatch', reason: 'counts or id checksums differ from the helper' };
      const counts = Object.fromEntries(Object.entries(f.helperSelector).map(([key, b]) => [key, b.count]));
      return { ok: true, shares: f.helperShares, counts, withheld: {}, sigma2: f.record.sigma2 };
    },
    async noisy(_key, sums) {
      return addDiscreteGaussianNoise(new Uint32Array(sums), sigma2);
    },
    async publish(_centroids, u) {
      update = u;
      return f.record.descriptor.model_version + 1;
    },
  };
  const t0 = performance.now();
  const outcome = await closeKmeansRound(f.record, deps);
  const ms = performance.now() - t0;
  const reason = outcome.state === 'abandoned' ? outcome.reason : '';
  if (outcome.state !== 'released') throw new Error(`round-close: round abandoned: ${reason}`);
  return { ms, gatherMs, buckets: gathered, update, state: outcome.state, contributions: outcome.contributions };
}

/** The reference: the same leader share vectors summed into one Uint32Array. */
function plainSum(f: Fixture): { ms: number; sum: Uint32Array } {
  const L = f.length;
  const shares = f.shares;
  const t0 = performance.now();
  const acc = new Uint32Array(L);
  for (let i = 0; i < N; i++) {
    const base = i * L;
    for (let j = 0; j < L; j++) acc[j] = ((acc[j] as number) + (shares[base + j] as number)) >>> 0;
  }
  return { ms: performance.now() - t0, sum: acc };
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));
}

/** Both sides summed the same thing, and the release is plausible. */
function check(f: Fixture, run: OursRun, reference: Uint32Array, k: number): void {
  if (run.contributions !== N) throw new Error(`round-close: released ${run.contributions} contributions, expected ${N}`);
  const total = new Uint32Array(f.length);
  let count = 0;
  for (const b of run.buckets.values()) {
    count += b.count;
    for (let j = 0; j < f.length; j++) total[j] = ((total[j] as number) + (b.sums[j] as number)) >>> 0;
  }
  if (count !== N) throw new Error(`round-close: buckets hold ${count} contributions, expected ${N}`);
  for (let j = 0; j < f.length; j++) {
    if (total[j] !== reference[j]) throw new Error(`round-close: bucket sums differ from the plain sum at entry ${j}`);
  }
  const update = run.update;
  if (!update) throw new Error('round-close: nothing was published');
  const previous = f.record.descriptor.slices[0] as number[][];
  for (let c = 0; c < k; c++) {
    if (update.kept[c]) throw new Error(`round-close: centroid ${c} kept (noisy count ${update.counts[c]}) with ${N} contributions`);
    const before = distance(previous[c] as number[], f.trueCentres[c] as number[]);
    const after = distance(update.centroids[c] as number[], f.trueCentres[c] as number[]);
    if (!(after < before / 4)) throw new Error(`round-close: centroid ${c} is ${after.toFixed(3)} from its true centre (was ${before.toFixed(3)})`);
  }
}

/** Where the time goes: the checksum alone, once over every digest (not interleaved). */
function checksumOnlyMs(f: Fixture): number {
  const checksum = new Uint8Array(32);
  const t0 = performance.now();
  for (const dg of f.digests) xorInto(checksum, dg);
  const ms = performance.now() - t0;
  if (checksum.length !== 32) throw new Error('round-close: bad checksum');
  return ms;
}

async function row(k: number): Promise<BenchRow> {
  const f = await fixture(k);
  const runs = await interleaved<{ ms: number; ours?: OursRun; sum?: Uint32Array }>(
    ROUNDS,
    WARMUP,
    async () => {
      const run = await closeOnce(f);
      return { ms: run.ms, ours: run };
    },
    () => plainSum(f),
  );
  const ours = runs.ours.map((r) => r.ours).filter((r): r is OursRun => r !== undefined);
  const reference = runs.reference[0]?.sum;
  if (!reference || ours.length !== ROUNDS) throw new Error('round-close: missing runs');
  for (const r of ours) check(f, r, reference, k);
  const gatherMs = median(ours.map((r) => r.gatherMs));
  const totalMs = median(ours.map((r) => r.ms));
  const checksumMs = checksumOnlyMs(f);
  const buckets = ours[0]?.buckets.size ?? 0;
  return {
    name: `round close, ${N.toLocaleString('en')} contributions k=${k} d=${f.record.descriptor.d} (L=${f.length})`,
    unit: 'ms',
    ours: totalMs,
    reference: median(runs.reference.map((r) => r.ms)),
    referenceLabel: `the same ${N.toLocaleString('en')} leader share vectors summed into one Uint32Array by a nested loop`,
    note:
      `closeKmeansRound in-process over ${SHARDS} shards (shardOf) × ${buckets} (slice, group) buckets: addToBucket per contribution, mergeBucket, leader noise, combineShares, decodeKmeansAggregate, updateCentroids; ` +
      `of which summing + checksums + merge ${gatherMs.toFixed(0)} ms, the id checksums alone (xorInto on bytes) ≈ ${checksumMs.toFixed(0)} ms; ` +
      `id digests (SHA-256) precomputed outside the timed section; median of ${ROUNDS} interleaved rounds (${WARMUP} warm-up dropped); ` +
      `checked: bucket sums = plain sum, counts and id checksums = the helper's, every centroid moved to within a quarter of its old distance from the true centre`,
  };
}

export const bench: Benchmark = {
  name: 'round-close',
  description: `leader round close over ${N.toLocaleString('en')} contributions in-process (k=4 and k=8, d=31), vs summing the same vectors in a plain loop`,
  async run() {
    return [await row(4), await row(8)];
  },
};
