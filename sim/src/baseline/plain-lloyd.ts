/**
 * Plain Lloyd: every iteration measures every row against every centroid. The reference
 * the fast version (elkan.ts) must match exactly and is benchmarked against.
 */
import type { KmeansResult } from '@edgeseg/shared';
import { ClusterSums, inertiaOfLabels, splitExact, squaredDistance } from './centroids.ts';

/**
 * Assigns every row to its nearest centroid (ties → lowest index); returns how many
 * labels changed.
 *
 * @example
 * const changed = assignAll(matrix, 31, centroids, labels);
 */
export function assignAll(data: Float32Array, d: number, centroids: Float64Array, labels: Int32Array): number {
  const k = centroids.length / d;
  let changed = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    let bestDist = Infinity;
    for (let c = 0; c < k; c++) {
      const s = squaredDistance(data, d, i, centroids, c);
      if (s < bestDist) {
        bestDist = s;
        best = c;
      }
    }
    if (labels[i] !== best) changed++;
    labels[i] = best;
  }
  return changed;
}

/**
 * Lloyd from `initial` (not modified): assign, then (means, assign) until no row changes
 * cluster or `maxIterations`.
 *
 * @example
 * const r = plainLloyd(matrix, 31, kmeansPlusPlus(matrix, 31, 8, seededRandom(1)));
 */
export function plainLloyd(data: Float32Array, d: number, initial: Float64Array, maxIterations = 300): KmeansResult {
  const centroids = Float64Array.from(initial);
  const labels = new Int32Array(data.length / d);
  const sums = new ClusterSums(splitExact(data, d), d, initial.length / d);
  assignAll(data, d, centroids, labels);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    sums.fromLabels(labels);
    const emptied = sums.writeMeans(data, labels, centroids, null);
    const changed = assignAll(data, d, centroids, labels);
    if (changed === 0 && !emptied) {
      converged = true;
      break;
    }
  }
  return { centroids, labels, inertia: inertiaOfLabels(data, d, labels, centroids), iterations, converged };
}
