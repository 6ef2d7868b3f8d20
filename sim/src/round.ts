/**
 * One federated k-means round over the whole simulated population, in-process, through
 * the product's code:
 *
 * secure (the fast share path): each device `encodeKmeansContribution` against its
 *   slice's centroids and its vector is `addInto` its (slice, group) bucket; each
 *   bucket's sum is then split into two additive shares mod 2^32, a uniform one and its
 *   complement (standing for the Field128 output shares of verified Prio3 reports; the
 *   devices' own random splits, summed, have exactly this law, and a per-device split
 *   cost a third of the round's time; `--prio3-sample` in the CLI runs the real reports
 *   for a sample). Each aggregator adds its own full discrete Gaussian to its share
 *   (`addDiscreteGaussianNoise`), and the leader `combineShares`,
 *   `decodeKmeansAggregate`s and `updateCentroids` per slice, as closeKmeansRound does;
 * local: each device's vector carries its own N_Z(0, σ²) per entry; the server sums and
 *   decodes the same way. The n_b per-device draws of a bucket are sampled as their sum,
 *   one N_Z(0, n_b·σ²) per entry (see `addLocalNoise`).
 *
 * Devices draw their slice uniformly, as `sealSecureVector` does; the group is drawn
 * uniformly too, standing for the aggregators' keyed hash of the report id (`reportGroup`).
 */
import { flattenCentroids, randomBelow, type ContributionEncoding, type RandomSource } from '@edgeseg/shared';
import { addDiscreteGaussianNoise, type Rational } from '@edgeseg/shared/dp';
import { addInto, combineShares, decodeKmeansAggregate, encodeKmeansContribution, vectorLength } from '@edgeseg/shared/secure';
import { updateCentroids, type CentroidUpdate, type DecodedAggregate } from '@edgeseg/aggregator/rounds';

export type Mode = 'secure' | 'local';

export interface RoundInput {
  mode: Mode;
  /** n × d standardised features. */
  matrix: Float32Array;
  d: number;
  /** Starting centroids per slice (k rows of d each). */
  slices: number[][][];
  groups: number;
  encoding: ContributionEncoding;
  /** σ² per entry: each aggregator's (secure) or each device's (local). */
  sigma2: Rational;
  minCount: number;
  /** 1 where the device takes part in this round (dropout leaves 0). */
  present: Uint8Array;
  /** Devices' own draws (slice, group, stochastic rounding). */
  deviceRandom: RandomSource;
  /** The helper-share PRG (secure only). */
  shareRandom: RandomSource;
  /** The leader's and the helper's noise (secure), or the devices' (local). */
  leaderNoise: RandomSource;
  helperNoise: RandomSource;
}

export interface RoundOutput {
  updates: CentroidUpdate[];
  contributions: number;
  /** Devices per bucket, slice-major. */
  bucketCounts: number[];
  seconds: { devices: number; aggregate: number };
}

/**
 * Adds the sum of `devices` independent N_Z(0, σ²) draws to every entry, sampled as one
 * N_Z(0, devices·σ²): same mean and variance, and for σ ≫ 1 (σ is in the tens of
 * thousands here) the sum of discrete Gaussians is within a negligible distance of a
 * discrete Gaussian of the summed variance. It replaces 100,000 · k(d + 3) exact draws
 * per round, which the exact sampler cannot do in seconds.
 *
 * @example
 * addLocalNoise(bucketSum, sigma2, 1250, random);
 */
export function addLocalNoise(sum: Uint32Array, sigma2: Rational, devices: number, random: RandomSource): void {
  if (devices <= 0) return;
  addDiscreteGaussianNoise(sum, { num: sigma2.num * BigInt(devices), den: sigma2.den }, random);
}

/**
 * Runs one round for every present device and returns the centroid update of each slice.
 *
 * @example
 * const { updates } = runRound({ mode: 'secure', matrix, d, slices, groups: 1, encoding, sigma2, minCount, present, ...randoms });
 */
export function runRound(input: RoundInput): RoundOutput {
  const { matrix, d, slices, groups, encoding, present } = input;
  const k = slices[0]?.length ?? 0;
  const S = slices.length;
  const L = vectorLength('kmeans', k, d);
  const buckets = S * groups;
  const leaderSums = Array.from({ length: buckets }, () => new Uint32Array(L));
  const helperSums = Array.from({ length: buckets }, () => new Uint32Array(L));
  const counts = new Array<number>(buckets).fill(0);
  const flat = slices.map((s) => flattenCentroids(s));
  const n = matrix.length / d;
  const t0 = performance.now();
  let contributions = 0;
  for (let i = 0; i < n; i++) {
    if (!present[i]) continue;
    const slice = S === 1 ? 0 : randomBelow(S, input.deviceRandom);
    const group = groups === 1 ? 0 : randomBelow(groups, input.deviceRandom);
    const b = slice * groups + group;
    const { vector } = encodeKmeansContribution(matrix.subarray(i * d, i * d + d), flat[slice] as Float32Array, encoding, input.deviceRandom);
    addInto(leaderSums[b] as Uint32Array, new Uint32Array(vector.buffer, vector.byteOffset, vector.length));
    counts[b] = (counts[b] as number) + 1;
    contributions++;
  }
  if (input.mode === 'secure') {
    // Split each bucket's sum: the helper's share uniform, the leader's the rest (mod 2^32).
    for (let b = 0; b < buckets; b++) {
      const leader = leaderSums[b] as Uint32Array;
      const helper = helperSums[b] as Uint32Array;
      input.shareRandom(helper);
      for (let j = 0; j < L; j++) leader[j] = ((leader[j] as number) - (helper[j] as number)) >>> 0;
    }
  }
  const t1 = performance.now();
  const bySlice: DecodedAggregate[][] = Array.from({ length: S }, () => []);
  for (let b = 0; b < buckets; b++) {
    if ((counts[b] as number) === 0) continue; // an empty bucket is never released
    let sums: Int32Array;
    if (input.mode === 'secure') {
      addDiscreteGaussianNoise(leaderSums[b] as Uint32Array, input.sigma2, input.leaderNoise);
      addDiscreteGaussianNoise(helperSums[b] as Uint32Array, input.sigma2, input.helperNoise);
      sums = combineShares(leaderSums[b] as Uint32Array, helperSums[b] as Uint32Array);
    } else {
      addLocalNoise(leaderSums[b] as Uint32Array, input.sigma2, counts[b] as number, input.leaderNoise);
      sums = new Int32Array((leaderSums[b] as Uint32Array).buffer);
    }
    (bySlice[Math.floor(b / groups)] as DecodedAggregate[]).push(decodeKmeansAggregate(sums, k, d, encoding));
  }
  const updates = slices.map((previous, s) => updateCentroids(previous, bySlice[s] as DecodedAggregate[], { minCount: input.minCount }));
  return { updates, contributions, bucketCounts: counts, seconds: { devices: (t1 - t0) / 1000, aggregate: (performance.now() - t1) / 1000 } };
}
