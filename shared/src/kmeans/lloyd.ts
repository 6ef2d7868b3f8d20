/**
 * The one non-private k-means of the project: greedy k-means++ seeding (as scikit-learn
 * does it: 2 + ⌊ln k⌋ candidates per step, keep the one that lowers the potential most),
 * then Lloyd iterations until no point changes cluster, best of several seeds by inertia.
 * Data is a flat row-major matrix (n rows of d values) in a Float32Array or Float64Array;
 * centroids are a Float64Array of k·d values.
 */
import { randomFraction, seededRandom, type RandomSource } from '../random.ts';

/** A flat row-major n × d matrix. */
export type Matrix = Float32Array | Float64Array;

/** One clustering of a matrix. */
export interface KmeansResult {
  /** k·d centroid coordinates, row-major. */
  centroids: Float64Array;
  /** Cluster of each row. */
  labels: Int32Array;
  /** Σ over rows of the squared distance to its centroid. */
  inertia: number;
  /** Lloyd iterations run. */
  iterations: number;
  /** True when the last iteration moved no point (false: stopped at maxIterations). */
  converged: boolean;
}

export interface KmeansOptions {
  /** Independent seedings; the lowest inertia wins (default 10). */
  restarts?: number;
  /** Lloyd iteration cap per seeding (default 300). */
  maxIterations?: number;
  /** Seed of the deterministic source used for seeding (default 1). */
  seed?: number;
}

/**
 * Squared distance from row `row` to centroid `c`, or `cap` once it reaches it: summed in coordinate order
 * and stopping once the partial sum reaches the cap: the same value, bit for bit, as the
 * whole sum capped, since the terms are non-negative. With no cap it is the distance.
 */
function sqDist(data: Matrix, row: number, centroids: Float64Array, c: number, d: number, cap = Infinity): number {
  let s = 0;
  const a = row * d;
  const b = c * d;
  // The cap is checked every 8 coordinates: often enough to stop early, rarely enough to cost little.
  for (let j = 0; j < d; j++) {
    const diff = (data[a + j] as number) - (centroids[b + j] as number);
    s += diff * diff;
    if ((j & 7) === 7 && s >= cap) return cap;
  }
  return s < cap ? s : cap;
}

/**
 * Assigns every row to its nearest centroid (ties → lowest index); writes labels and
 * squared distances, returns the inertia and how many labels changed.
 *
 * @example
 * const { inertia } = assignRows(data, d, centroids, labels, dists);
 */
export function assignRows(data: Matrix, d: number, centroids: Float64Array, labels: Int32Array, dists: Float64Array): { inertia: number; changed: number } {
  const n = labels.length;
  const k = centroids.length / d;
  let inertia = 0;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDist = Infinity;
    const a = i * d;
    for (let c = 0; c < k; c++) {
      const b = c * d;
      let s = 0;
      for (let j = 0; j < d && s < bestDist; j++) {
        const diff = (data[a + j] as number) - (centroids[b + j] as number);
        s += diff * diff;
      }
      if (s < bestDist) {
        bestDist = s;
        best = c;
      }
    }
    if (labels[i] !== best) changed++;
    labels[i] = best;
    dists[i] = bestDist;
    inertia += bestDist;
  }
  return { inertia, changed };
}

/**
 * Greedy k-means++ seeding: the first centre uniformly, each next one the best of
 * 2 + ⌊ln k⌋ candidates drawn with probability ∝ squared distance to the nearest centre.
 *
 * @example
 * const centroids = kmeansPlusPlus(data, 31, 8, seededRandom(1));
 */
export function kmeansPlusPlus(data: Matrix, d: number, k: number, random: RandomSource): Float64Array {
  const n = data.length / d;
  if (n < 1) throw new RangeError('kmeansPlusPlus: no rows');
  const centroids = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.min(n - 1, Math.floor(randomFraction(random) * n));
  centroids.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = sqDist(data, i, centroids, 0, d);
  const candidateDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestRow = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // D² sampling by a linear scan over the cumulative potential.
      let target = randomFraction(random) * potential;
      let row = n - 1;
      for (let i = 0; i < n; i++) {
        target -= closest[i] as number;
        if (target < 0) {
          row = i;
          break;
        }
      }
      centroids.set(data.subarray(row * d, row * d + d), c * d);
      let p = 0;
      for (let i = 0; i < n; i++) {
        // A candidate farther than a row's nearest centre leaves that row's distance as it was.
        const dist = sqDist(data, i, centroids, c, d, closest[i] as number);
        candidateDist[i] = dist;
        p += dist;
      }
      if (p < bestPotential) {
        bestPotential = p;
        bestRow = row;
        bestDist.set(candidateDist);
      }
    }
    centroids.set(data.subarray(bestRow * d, bestRow * d + d), c * d);
    closest.set(bestDist);
    potential = bestPotential;
  }
  return centroids;
}

/**
 * Lloyd iterations from `initial` (not modified) until no row changes cluster or
 * `maxIterations`. An empty cluster is moved to the row farthest from its centroid.
 * Hamerly's bounds (2010) skip rows that provably keep their centroid, so each iteration
 * gives exactly the assignment plain Lloyd would, only faster.
 *
 * @example
 * const result = lloyd(data, 31, kmeansPlusPlus(data, 31, 8, seededRandom(1)));
 */
export function lloyd(data: Matrix, d: number, initial: Float64Array, maxIterations = 300): KmeansResult {
  const n = data.length / d;
  const k = initial.length / d;
  const centroids = Float64Array.from(initial);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const moved = new Float64Array(k);
  const halfGap = new Float64Array(k);
  const previous = new Float64Array(k * d);
  // Exact nearest and second-nearest for one row: sets label and both bounds.
  const full = (i: number): void => {
    let best = 0;
    let bestDist = Infinity;
    let second = Infinity;
    for (let c = 0; c < k; c++) {
      const dist = sqDist(data, i, centroids, c, d);
      if (dist < bestDist) {
        second = bestDist;
        bestDist = dist;
        best = c;
      } else if (dist < second) second = dist;
    }
    labels[i] = best;
    upper[i] = Math.sqrt(bestDist);
    lower[i] = Math.sqrt(second);
  };
  for (let i = 0; i < n; i++) full(i);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i] as number;
      counts[c] = (counts[c] as number) + 1;
      const a = i * d;
      const b = c * d;
      for (let j = 0; j < d; j++) sums[b + j] = (sums[b + j] as number) + (data[a + j] as number);
    }
    previous.set(centroids);
    let emptied = false;
    for (let c = 0; c < k; c++) {
      const m = counts[c] as number;
      if (m > 0) {
        for (let j = 0; j < d; j++) centroids[c * d + j] = (sums[c * d + j] as number) / m;
        continue;
      }
      // Empty: take the row farthest from its centroid (upper bounds are exact after a full pass).
      let far = 0;
      for (let i = 0; i < n; i++) full(i);
      for (let i = 1; i < n; i++) if ((upper[i] as number) > (upper[far] as number)) far = i;
      centroids.set(data.subarray(far * d, far * d + d), c * d);
      emptied = true;
    }
    let maxMove = 0;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += ((centroids[c * d + j] as number) - (previous[c * d + j] as number)) ** 2;
      moved[c] = Math.sqrt(s);
      maxMove = Math.max(maxMove, moved[c] as number);
    }
    for (let c = 0; c < k; c++) {
      let nearest = Infinity;
      for (let o = 0; o < k; o++) {
        if (o === c) continue;
        let s = 0;
        for (let j = 0; j < d; j++) s += ((centroids[c * d + j] as number) - (centroids[o * d + j] as number)) ** 2;
        nearest = Math.min(nearest, s);
      }
      halfGap[c] = Math.sqrt(nearest) / 2;
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const c = labels[i] as number;
      upper[i] = (upper[i] as number) + (moved[c] as number);
      lower[i] = (lower[i] as number) - maxMove;
      const bound = Math.max(lower[i] as number, halfGap[c] as number);
      if (!emptied && (upper[i] as number) <= bound) continue;
      upper[i] = Math.sqrt(sqDist(data, i, centroids, c, d));
      if (!emptied && (upper[i] as number) <= bound) continue;
      full(i);
      // Ties go to the lowest index, as in assignRows: keep the old label only if strictly nearer.
      if (labels[i] !== c) changed++;
    }
    if (changed === 0 && !emptied) {
      converged = true;
      break;
    }
  }
  const dists = new Float64Array(n);
  const { inertia } = assignRows(data, d, centroids, labels, dists);
  return { centroids, labels, inertia, iterations, converged };
}

/**
 * Non-private k-means: k-means++ then Lloyd to convergence, best of `restarts` seedings.
 *
 * @example
 * const best = kmeans(matrix, 31, 8, { restarts: 10, seed: 7 });
 * console.log(best.inertia, best.labels);
 */
export function kmeans(data: Matrix, d: number, k: number, options: KmeansOptions = {}): KmeansResult {
  const { restarts = 10, maxIterations = 300, seed = 1 } = options;
  if (!Number.isInteger(d) || d < 1 || data.length % d !== 0) throw new RangeError(`kmeans: ${data.length} values do not form rows of d = ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > data.length / d) throw new RangeError(`kmeans: k = ${k} for ${data.length / d} rows`);
  const random = seededRandom(seed);
  let best: KmeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    const result = lloyd(data, d, kmeansPlusPlus(data, d, k, random), maxIterations);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best as KmeansResult;
}

/**
 * Σ over rows of the squared distance to the nearest of `centroids`, and the labels.
 *
 * @example
 * const { inertia, labels } = inertiaOf(matrix, 31, privateCentroids);
 */
export function inertiaOf(data: Matrix, d: number, centroids: Float64Array | Float32Array): { inertia: number; labels: Int32Array } {
  const labels = new Int32Array(data.length / d);
  const { inertia } = assignRows(data, d, Float64Array.from(centroids), labels, new Float64Array(labels.length));
  return { inertia, labels };
}
