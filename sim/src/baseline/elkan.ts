/**
 * Lloyd with Elkan's bounds (2003): per row an upper bound on the distance to its own
 * centroid and a lower bound on the distance to every other one, kept valid by the
 * triangle inequality as centroids move. A centroid is measured only when the bounds
 * cannot rule it out, and only clusters whose rows changed are re-averaged. Every step
 * gives exactly the assignment plain Lloyd (plain-lloyd.ts) gives, ties included: a
 * bound skips a centroid only when it is strictly farther, with a margin far above the
 * rounding of the square roots.
 */
import type { KmeansResult } from '@edgeseg/shared';
import { ClusterSums, inertiaOfLabels, splitExact, squaredDistance } from './centroids.ts';

/** Relative margin on every bound test: square roots and sums round by ~1e-16, so 1e-9 keeps each skip provably safe. */
const SAFE = 1 + 1e-9;
/** Absolute margin for bounds near zero (a row sitting on its centroid). */
const TINY = 1e-12;

/**
 * Lloyd from `initial` (not modified) until no row changes cluster or `maxIterations`;
 * the same result as plainLloyd for the same start, only faster.
 *
 * @example
 * const r = elkanLloyd(matrix, 31, kmeansPlusPlus(matrix, 31, 8, seededRandom(1)));
 */
export function elkanLloyd(data: Float32Array, d: number, initial: Float64Array, maxIterations = 300, parts = splitExact(data, d)): KmeansResult {
  const n = data.length / d;
  const k = initial.length / d;
  const centroids = Float64Array.from(initial);
  const previous = new Float64Array(k * d);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n * k);
  const moved = new Float64Array(k);
  // Bounds are stored against each centroid's total drift (Σ of its moves): a stored lower
  // bound minus drift[c], a stored upper bound plus drift[label], are valid bounds now.
  // Rows the first test settles then cost two reads, not k updates, per iteration.
  const drift = new Float64Array(k);
  // Hamerly's single bound on top (2010): the smallest of a row's other lower bounds,
  // stored against the sum of each iteration's largest move; one test then settles most
  // rows before their k bounds are read.
  const second = new Float64Array(n);
  let maxDrift = 0;
  const half = new Float64Array(k * k);
  const nearestHalf = new Float64Array(k);
  const dirty = new Uint8Array(k);
  // Exact distances to every centroid: the start, and after an emptied cluster.
  const full = (): void => {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDist = Infinity;
      for (let c = 0; c < k; c++) {
        const s = squaredDistance(data, d, i, centroids, c);
        lower[i * k + c] = Math.sqrt(s) + (drift[c] as number);
        if (s < bestDist) {
          bestDist = s;
          best = c;
        }
      }
      labels[i] = best;
      upper[i] = Math.sqrt(bestDist) - (drift[best] as number);
      let low = Infinity;
      for (let c = 0; c < k; c++) if (c !== best) low = Math.min(low, (lower[i * k + c] as number) - (drift[c] as number));
      second[i] = low + maxDrift;
    }
  };
  full();
  dirty.fill(1);
  // Exact sums, kept up to date as rows move: only moved rows cost anything.
  const sums = new ClusterSums(parts, d, k);
  sums.fromLabels(labels);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    previous.set(centroids);
    const emptied = sums.writeMeans(data, labels, centroids, dirty);
    if (emptied) {
      full();
      sums.fromLabels(labels);
      dirty.fill(1);
      continue;
    }
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += ((centroids[c * d + j] as number) - (previous[c * d + j] as number)) ** 2;
      moved[c] = Math.sqrt(s);
      drift[c] = (drift[c] as number) + (moved[c] as number);
    }
    let maxMove = 0;
    for (let c = 0; c < k; c++) maxMove = Math.max(maxMove, moved[c] as number);
    maxDrift += maxMove;
    for (let c = 0; c < k; c++) {
      nearestHalf[c] = Infinity;
      for (let o = 0; o < k; o++) {
        if (o === c) continue;
        let s = 0;
        for (let j = 0; j < d; j++) s += ((centroids[c * d + j] as number) - (centroids[o * d + j] as number)) ** 2;
        const h = Math.sqrt(s) / 2;
        half[c * k + o] = h;
        if (h < (nearestHalf[c] as number)) nearestHalf[c] = h;
      }
    }
    dirty.fill(0);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const row = i * k;
      const start = labels[i] as number;
      let a = start;
      let u = (upper[i] as number) + (drift[a] as number);
      // Every other centroid is at least 2·nearestHalf from a, so at least u away from the row.
      if (u * SAFE + TINY < Math.max(nearestHalf[a] as number, (second[i] as number) - maxDrift)) continue;
      let tight = false;
      let dA = 0;
      for (let c = 0; c < k; c++) {
        if (c === a) continue;
        const l = (lower[row + c] as number) - (drift[c] as number);
        if (u * SAFE + TINY < l || u * SAFE + TINY < (half[a * k + c] as number)) continue;
        if (!tight) {
          dA = squaredDistance(data, d, i, centroids, a);
          u = Math.sqrt(dA);
          lower[row + a] = u + (drift[a] as number);
          tight = true;
          if (u * SAFE + TINY < l || u * SAFE + TINY < (half[a * k + c] as number)) continue;
        }
        const dC = squaredDistance(data, d, i, centroids, c);
        const root = Math.sqrt(dC);
        lower[row + c] = root + (drift[c] as number);
        // Ties go to the lowest index, as in plain Lloyd's scan.
        if (dC < dA || (dC === dA && c < a)) {
          a = c;
          dA = dC;
          u = root;
        }
      }
      upper[i] = u - (drift[a] as number);
      let low = Infinity;
      for (let c = 0; c < k; c++) if (c !== a) low = Math.min(low, (lower[row + c] as number) - (drift[c] as number));
      second[i] = low + maxDrift;
      if (a !== start) {
        labels[i] = a;
        sums.move(i, start, a);
        dirty[a] = 1;
        dirty[start] = 1;
        changed++;
      }
    }
    if (changed === 0) {
      converged = true;
      break;
    }
  }
  return { centroids, labels, inertia: inertiaOfLabels(data, d, labels, centroids), iterations, converged };
}
