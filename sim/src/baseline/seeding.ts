/**
 * Greedy k-means++ seeding, exactly shared's kmeansPlusPlus (same draws, same centres,
 * same bits) but faster: a row's distance to a candidate centre stops being summed as
 * soon as it reaches the row's distance to its nearest chosen centre, since the row's
 * new nearest distance is then the old one either way.
 */
import { randomFraction, type RandomSource } from '@edgeseg/shared';

/**
 * min(cap, squared distance from row `row` to centre `c`), the distance summed in
 * coordinate order; stops summing once the partial sum reaches the cap.
 */
function cappedDistance(data: Float32Array, d: number, row: number, centres: Float64Array, c: number, cap: number): number {
  let s = 0;
  const a = row * d;
  const b = c * d;
  // The cap is checked every 8 coordinates: often enough to stop early, rarely enough to cost little.
  for (let j = 0; j < d; j++) {
    const diff = (data[a + j] as number) - (centres[b + j] as number);
    s += diff * diff;
    if ((j & 7) === 7 && s >= cap) return cap;
  }
  return s < cap ? s : cap;
}

/**
 * Greedy k-means++: the first centre uniformly, each next one the best of 2 + ⌊ln k⌋
 * candidates drawn with probability ∝ squared distance to the nearest centre.
 *
 * @example
 * const start = fastKmeansPlusPlus(matrix, 31, 8, seededRandom(1)); // = kmeansPlusPlus(matrix, 31, 8, seededRandom(1))
 */
export function fastKmeansPlusPlus(data: Float32Array, d: number, k: number, random: RandomSource): Float64Array {
  const n = data.length / d;
  if (n < 1) throw new RangeError('fastKmeansPlusPlus: no rows');
  const centroids = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.min(n - 1, Math.floor(randomFraction(random) * n));
  centroids.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = cappedDistance(data, d, i, centroids, 0, Infinity);
  const candidateDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestRow = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // D² sampling by a linear scan over the cumulative potential (as shared does it).
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
        const dist = cappedDistance(data, d, i, centroids, c, closest[i] as number);
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
