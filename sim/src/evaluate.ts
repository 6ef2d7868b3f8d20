/**
 * Scoring: the non-private baseline and its stability, the private model against it on
 * the identical matrix, and the error of GRR segment counts against their theory.
 */
import { adjustedRandIndex, grrDebias, grrEncode, grrProbabilities, inertiaOf, seededRandom, silhouette } from '@edgeseg/shared';

/**
 * Median of the pairwise ARIs of three labelings (three pairs).
 *
 * @example
 * stabilityOf([a.labels, b.labels, c.labels]) // e.g. 0.8
 */
export function stabilityOf(labelings: readonly Int32Array[]): number {
  const aris: number[] = [];
  for (let i = 0; i < labelings.length; i++) for (let j = i + 1; j < labelings.length; j++) aris.push(adjustedRandIndex(labelings[i] as Int32Array, labelings[j] as Int32Array));
  aris.sort((a, b) => a - b);
  const mid = aris.length >> 1;
  return aris.length % 2 ? (aris[mid] as number) : ((aris[mid - 1] as number) + (aris[mid] as number)) / 2;
}

export interface SegmentCountError {
  /** ε of each report. */
  epsilon: number;
  /** Root mean squared error of the debiased counts over the k segments. */
  rmse: number;
  /** rmse ÷ the mean segment size n / k. */
  relativeRmse: number;
  /** The same from GRR theory: √(mean over segments of Var n̂ᵥ) at the true counts. */
  theoreticalRmse: number;
  trueCounts: number[];
  estimates: number[];
}

/**
 * Every device sends one GRR report of its private segment (`grrEncode`); the counts are
 * debiased (`grrDebias`) and compared with the true counts and with the theoretical error
 * Var n̂ᵥ = n·q(1−q)/(p−q)² + nᵥ(1−p−q)/(p−q).
 *
 * @example
 * const err = segmentCountError(privateLabels, 8, 2, 1);
 */
export function segmentCountError(labels: Int32Array, k: number, epsilon: number, seed: number): SegmentCountError {
  const random = seededRandom(seed);
  const observed = new Array<number>(k).fill(0);
  const trueCounts = new Array<number>(k).fill(0);
  for (const s of labels) {
    trueCounts[s] = (trueCounts[s] as number) + 1;
    const v = grrEncode(s, k, epsilon, random);
    observed[v] = (observed[v] as number) + 1;
  }
  const { estimate } = grrDebias(observed, epsilon);
  const n = labels.length;
  const { p, q } = grrProbabilities(k, epsilon);
  let se = 0;
  let theory = 0;
  for (let v = 0; v < k; v++) {
    se += ((estimate[v] as number) - (trueCounts[v] as number)) ** 2;
    theory += (n * q * (1 - q)) / (p - q) ** 2 + ((trueCounts[v] as number) * (1 - p - q)) / (p - q);
  }
  const rmse = Math.sqrt(se / k);
  return { epsilon, rmse, relativeRmse: rmse / (n / k), theoreticalRmse: Math.sqrt(theory / k), trueCounts, estimates: estimate };
}

/**
 * Inertia, silhouette and labels of a set of centroids on the matrix.
 *
 * @example
 * const s = scoreCentroids(matrix, 31, 8, centroids, 1);
 */
export function scoreCentroids(matrix: Float32Array, d: number, k: number, centroids: Float64Array, seed: number): { inertia: number; silhouette: number; labels: Int32Array } {
  const { inertia, labels } = inertiaOf(matrix, d, centroids);
  return { inertia, labels, silhouette: silhouette(matrix, d, labels, k, { seed }) };
}
