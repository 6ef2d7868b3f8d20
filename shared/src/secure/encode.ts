/**
 * Fixed-point encoding of one device's contribution (DESIGN.md §5), and its inverse on
 * the server. Everything a device sends in a round is one integer vector whose L2 norm
 * is at most `encoding.bound`, so the aggregators' noise can be calibrated to `bound`
 * and a sum over at most {@link maxDevicesPerGroup} devices never wraps mod 2^32.
 *
 * K-means vector layout (`vectorLength('kmeans', k, d)` = k·(d + 3) int32 entries): k
 * blocks of d + 3, block c at offset c·(d + 3):
 *
 * | offset in block | field | real value | integer scale (see {@link encodingScales}) |
 * |---|---|---|---|
 * | 0 … d − 1 | coordinate sums | clipped x_j | ρ·w_coords·bound / clip |
 * | d | count | 1 | ⌊w_count·bound⌋ (an exact integer: counts decode exactly) |
 * | d + 1 | squared distance | min(‖x − μ_c‖², (2·clip)²) | ρ·w_sqdist·bound / (2·clip)² |
 * | d + 2 | simplified silhouette | (b − a) / max(a, b) | ρ·w_silhouette·bound |
 *
 * Only the block of the device's nearest centroid is non-zero. ρ = 1 − √(d + 2) / (bound·W)
 * with W = √(w_coords² + w_sqdist² + w_silhouette²) is a slightly smaller than 1 factor
 * that reserves room for rounding: stochastic rounding moves each of the d + 2 real entries
 * by less than 1, so by the triangle inequality their rounded L2 norm is at most
 * ρ·bound·W + √(d + 2) = bound·W, and with the count, ‖v‖² ≤ bound²·Σw² ≤ bound², for every
 * draw, without conditioning (which would bias) the rounding.
 *
 * Counts vector layout (`vectorLength('counts', k, d)` = k + 1): one-hot, entry s = the
 * device's segment, entry k = "no segment", value `bound`. L2 norm is exactly `bound`, so
 * the noise calibrated to the round's `bound` fits it whatever `bound` is; a counts round
 * should use `bound: 1` (entries are then plain 0/1 and a group holds up to 2^31 − 1 devices).
 */
import { isIntIn, isNumberIn, isObject, unknownKeys, type Checked } from '../validate.ts';
import { cryptoRandom, type RandomSource } from '../random.ts';
import type { ContributionEncoding, RoundKind } from '../rounds.ts';

/** Largest accepted `encoding.bound`: 2^20 leaves 2^11 devices per group before a sum could wrap. */
export const MAX_ENCODING_BOUND = 2 ** 20;

/** Integer units per real unit of each k-means field (see the module comment). */
export interface EncodingScales {
  /** Per coordinate: clip → ρ·w_coords·bound. */
  coords: number;
  /** The integer written for a count of 1: ⌊w_count·bound⌋ ≥ 1. */
  count: number;
  /** Per squared distance: (2·clip)² → ρ·w_sqdist·bound. */
  sqdist: number;
  /** Per unit of silhouette: 1 → ρ·w_silhouette·bound. */
  silhouette: number;
  /** The rounding reserve ρ = 1 − √(d + 2) / (bound·W), in [1/2, 1). */
  rho: number;
}

/** The four k-means fields and their sums over the devices of one group, in real units. */
export interface KmeansAggregate {
  /** k × d coordinate sums of the clipped feature vectors, row-major. */
  coordSums: Float64Array;
  /** Devices per cluster. */
  counts: Float64Array;
  /** Sum of clipped squared distances to the own centroid, per cluster. */
  sqdist: Float64Array;
  /** Sum of simplified silhouettes, per cluster. */
  silhouette: Float64Array;
}

/**
 * Checks an (untrusted) contribution encoding: a closed object, `clip` a positive finite
 * number, `bound` an integer in [1, 2^20], four positive weights of at most 1 with
 * Σ w² ≤ 1 (exactly, no tolerance: the norm guarantee rests on it).
 *
 * @example
 * validateEncoding({ clip: 4, bound: 65536, weights: { coords: 0.9, count: 0.3, sqdist: 0.2, silhouette: 0.2 } }).ok // true
 */
export function validateEncoding(enc: unknown): Checked<ContributionEncoding> {
  if (!isObject(enc)) return { ok: false, errors: ['encoding: must be an object'] };
  const errors = unknownKeys(enc, ['clip', 'bound', 'weights']).map((k) => `encoding.${k}: unknown field`);
  if (!isNumberIn(enc.clip, Number.MIN_VALUE, 1e6)) errors.push('encoding.clip: must be a positive number (at most 1e6)');
  if (!isIntIn(enc.bound, 1, MAX_ENCODING_BOUND)) errors.push(`encoding.bound: must be an integer in [1, ${MAX_ENCODING_BOUND}]`);
  const w = enc.weights;
  if (!isObject(w)) errors.push('encoding.weights: must be an object');
  else {
    errors.push(...unknownKeys(w, WEIGHT_NAMES).map((k) => `encoding.weights.${k}: unknown field`));
    let sumSq = 0;
    let allOk = true;
    for (const name of WEIGHT_NAMES) {
      const v = w[name];
      if (!isNumberIn(v, Number.MIN_VALUE, 1)) {
        errors.push(`encoding.weights.${name}: must be a number in (0, 1]`);
        allOk = false;
      } else sumSq += v * v;
    }
    if (allOk && sumSq > 1) errors.push(`encoding.weights: the sum of squared weights is ${sumSq}, must be at most 1`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: enc as unknown as ContributionEncoding };
}

const WEIGHT_NAMES = ['coords', 'count', 'sqdist', 'silhouette'] as const;

/**
 * The integer scales of the k-means fields for feature dimension `d` (both device and
 * server compute them from the round's encoding). Throws a `RangeError` when `bound` is
 * too small for the encoding to be useful: the count must get at least 1 unit
 * (w_count·bound ≥ 1) and the rounding reserve must not eat more than half of the other
 * fields (bound·W ≥ 2·√(d + 2)).
 *
 * @example
 * encodingScales({ clip: 4, bound: 65536, weights: { coords: 0.9, count: 0.3, sqdist: 0.2, silhouette: 0.2 } }, 24).count // 19660
 */
export function encodingScales(enc: ContributionEncoding, d: number): EncodingScales {
  const { clip, bound, weights: w } = enc;
  const count = Math.floor(w.count * bound);
  if (count < 1) throw new RangeError(`encoding: weights.count·bound = ${w.count * bound} < 1 leaves no room for the count`);
  const W = Math.sqrt(w.coords * w.coords + w.sqdist * w.sqdist + w.silhouette * w.silhouette);
  const reserve = Math.sqrt(d + 2);
  if (bound * W < 2 * reserve) throw new RangeError(`encoding: bound ${bound} is too small for d = ${d} (need bound·W ≥ 2·√(d + 2))`);
  const rho = 1 - reserve / (bound * W);
  return {
    coords: (rho * w.coords * bound) / clip,
    count,
    sqdist: (rho * w.sqdist * bound) / (4 * clip * clip),
    silhouette: rho * w.silhouette * bound,
    rho,
  };
}

/**
 * Number of int32 entries of a round's contribution vector: k·(d + 3) for k-means,
 * k + 1 for counts.
 *
 * @example
 * vectorLength('kmeans', 8, 24) // 216
 * vectorLength('counts', 8, 24) // 9
 */
export function vectorLength(kind: RoundKind, k: number, d: number): number {
  return kind === 'kmeans' ? k * (d + 3) : k + 1;
}

/**
 * The most devices one (slice, group) sum may hold: with at most ⌊(2^31 − 1) / bound⌋
 * devices no entry of the exact sum leaves int32, so `combineShares` reads it back
 * unwrapped. The aggregators must refuse contributions beyond it (and keep the noise's
 * own tail well inside the remaining headroom).
 *
 * @example
 * maxDevicesPerGroup({ bound: 65536 }) // 32767
 */
export function maxDevicesPerGroup(enc: Pick<ContributionEncoding, 'bound'>): number {
  return Math.floor((2 ** 31 - 1) / enc.bound);
}

/**
 * Encodes one device's k-means contribution: clips `x` to L2 ≤ `enc.clip`, finds its
 * nearest centroid (squared Euclidean, ties → lowest index, as `assignSegment`, on the
 * clipped vector) and writes that centroid's block. Every real→integer step uses
 * unbiased stochastic rounding (P(up) = fractional part, to within 2^-53) from `random`;
 * the result always has L2 norm ≤ `enc.bound` (so every |entry| ≤ `bound`).
 * Throws a `RangeError` on a shape mismatch or a non-finite input.
 *
 * @example
 * const { vector, segment } = encodeKmeansContribution(x, flattenCentroids(round.slices[0]), round.encoding);
 */
export function encodeKmeansContribution(
  x: Float32Array,
  centroids: Float32Array,
  enc: ContributionEncoding,
  random: RandomSource = cryptoRandom,
): { vector: Int32Array<ArrayBuffer>; segment: number } {
  const d = x.length;
  if (d === 0 || centroids.length === 0 || centroids.length % d !== 0) {
    throw new RangeError(`encodeKmeansContribution: ${centroids.length} centroid values do not form rows of d = ${d}`);
  }
  const k = centroids.length / d;
  const scales = encodingScales(enc, d);
  const { clip, bound } = enc;

  // Clip in float64 (never re-rounded to float32, which could push the norm past clip).
  let norm2 = 0;
  for (let j = 0; j < d; j++) norm2 += (x[j] as number) * (x[j] as number);
  if (!Number.isFinite(norm2)) throw new RangeError('encodeKmeansContribution: x has a non-finite value');
  const norm = Math.sqrt(norm2);
  const factor = norm > clip ? clip / norm : 1;
  const xc = new Float64Array(d);
  for (let j = 0; j < d; j++) xc[j] = (x[j] as number) * factor;

  // Nearest and second-nearest centroid in one pass.
  let best = 0;
  let bestDist = Infinity;
  let second = Infinity;
  for (let c = 0, off = 0; c < k; c++, off += d) {
    let dist = 0;
    for (let j = 0; j < d; j++) {
      const diff = (xc[j] as number) - (centroids[off + j] as number);
      dist += diff * diff;
    }
    if (!Number.isFinite(dist)) throw new RangeError(`encodeKmeansContribution: centroid ${c} has a non-finite value`);
    if (dist < bestDist) {
      second = bestDist;
      bestDist = dist;
      best = c;
    } else if (dist < second) second = dist;
  }
  const a = Math.sqrt(bestDist);
  const b = Math.sqrt(second);
  const silhouette = k === 1 || Math.max(a, b) === 0 ? 0 : (b - a) / Math.max(a, b);
  const sqdist = Math.min(bestDist, 4 * clip * clip);

  // The d + 2 real entries, then one batch of randomness for their stochastic rounding.
  const m = d + 2;
  const real = new Float64Array(m);
  for (let j = 0; j < d; j++) real[j] = (xc[j] as number) * scales.coords;
  real[d] = sqdist * scales.sqdist;
  real[d + 1] = silhouette * scales.silhouette;
  const words = new Uint32Array(2 * m);
  random(words);

  const L = vectorLength('kmeans', k, d);
  const vector = new Int32Array(L);
  const off = best * (d + 3);
  let sumSq = scales.count * scales.count;
  for (let i = 0; i < m; i++) {
    const r = real[i] as number;
    const lo = Math.floor(r);
    const u = (((words[2 * i] as number) >>> 5) * 2 ** 26 + ((words[2 * i + 1] as number) >>> 6)) / 2 ** 53;
    const v = u < r - lo ? lo + 1 : lo;
    vector[off + (i < d ? i : i + 1)] = v;
    sumSq += v * v;
  }
  vector[off + d] = scales.count;
  // By construction sumSq ≤ bound² (module comment); this guard only absorbs float error
  // in the scales and never runs in practice: shrink the largest entry toward zero.
  while (sumSq > bound * bound) {
    let at = off;
    for (let i = off; i < off + d + 3; i++) if (Math.abs(vector[i] as number) > Math.abs(vector[at] as number)) at = i;
    const v = vector[at] as number;
    vector[at] = v - Math.sign(v);
    sumSq += (v - Math.sign(v)) ** 2 - v * v;
  }
  return { vector, segment: best };
}

/**
 * Encodes a counts-round contribution: a one-hot vector of k + 1 entries (entry k = "no
 * segment", for `segment === null`), the hot entry worth `bound`. The L2 norm is exactly
 * `bound`, the round's sensitivity; use `bound: 1` in counts rounds for plain 0/1 entries.
 *
 * @example
 * encodeCountContribution(2, 4, 1)    // Int32Array [0, 0, 1, 0, 0]
 * encodeCountContribution(null, 4, 1) // Int32Array [0, 0, 0, 0, 1]
 */
export function encodeCountContribution(segment: number | null, k: number, bound: number): Int32Array<ArrayBuffer> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`encodeCountContribution: bad k ${k}`);
  if (!Number.isInteger(bound) || bound < 1 || bound > MAX_ENCODING_BOUND) throw new RangeError(`encodeCountContribution: bad bound ${bound}`);
  if (segment !== null && (!Number.isInteger(segment) || segment < 0 || segment >= k)) {
    throw new RangeError(`encodeCountContribution: segment ${segment} is not in [0, ${k})`);
  }
  const vector = new Int32Array(k + 1);
  vector[segment ?? k] = bound;
  return vector;
}

/**
 * Decodes the (possibly noisy) sum of k-means contribution vectors of one group back
 * to real units by dividing out {@link encodingScales}. Cluster means are
 * `coordSums[c·d + j] / counts[c]`, mean squared distance `sqdist[c] / counts[c]`.
 *
 * @example
 * const agg = decodeKmeansAggregate(combineShares(leaderSum, helperSum), round.k, round.d, round.encoding);
 */
export function decodeKmeansAggregate(sums: ArrayLike<number>, k: number, d: number, enc: ContributionEncoding): KmeansAggregate {
  const L = vectorLength('kmeans', k, d);
  if (sums.length !== L) throw new RangeError(`decodeKmeansAggregate: ${sums.length} entries, expected k·(d + 3) = ${L}`);
  const s = encodingScales(enc, d);
  const coordSums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const sqdist = new Float64Array(k);
  const silhouette = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const off = c * (d + 3);
    for (let j = 0; j < d; j++) coordSums[c * d + j] = (sums[off + j] as number) / s.coords;
    counts[c] = (sums[off + d] as number) / s.count;
    sqdist[c] = (sums[off + d + 1] as number) / s.sqdist;
    silhouette[c] = (sums[off + d + 2] as number) / s.silhouette;
  }
  return { coordSums, counts, sqdist, silhouette };
}

/**
 * Decodes the (possibly noisy) sum of counts-round vectors: devices per segment, the
 * last entry counting devices without a segment.
 *
 * @example
 * decodeCountAggregate(combineShares(leaderSum, helperSum), round.k, round.encoding.bound) // Float64Array(k + 1)
 */
export function decodeCountAggregate(sums: ArrayLike<number>, k: number, bound: number): Float64Array<ArrayBuffer> {
  if (sums.length !== k + 1) throw new RangeError(`decodeCountAggregate: ${sums.length} entries, expected k + 1 = ${k + 1}`);
  const out = new Float64Array(k + 1);
  for (let i = 0; i <= k; i++) out[i] = (sums[i] as number) / bound;
  return out;
}
