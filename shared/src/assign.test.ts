import { describe, expect, it } from 'vitest';
import { assignSegment, flattenCentroids, standardise } from './assign.ts';
import { seededRandom } from './random.ts';

function referenceNearest(x: number[], centroids: number[][]): number {
  let best = 0;
  let bestDist = Infinity;
  centroids.forEach((c, i) => {
    const dist = c.reduce((acc, v, j) => acc + (v - (x[j] as number)) ** 2, 0);
    if (dist < bestDist) {
      bestDist = dist;
      best = i;
    }
  });
  return best;
}

describe('assignSegment', () => {
  it('picks the nearest centroid, lowest index on ties', () => {
    expect(assignSegment(new Float32Array([0, 0]), new Float32Array([5, 5, 0.1, 0]))).toBe(1);
    expect(assignSegment(new Float32Array([0, 0]), new Float32Array([1, 0, -1, 0]))).toBe(0);
  });

  it('agrees with a plain reference on 2,000 random points (k=8, d=32)', () => {
    const words = new Uint32Array(1);
    const random = seededRandom(7);
    const u = () => (random(words), (words[0] as number) / 2 ** 32 - 0.5);
    const centroids = Array.from({ length: 8 }, () => Array.from({ length: 32 }, u));
    const flat = flattenCentroids(centroids);
    for (let i = 0; i < 2000; i++) {
      const x = Array.from({ length: 32 }, u);
      expect(assignSegment(Float32Array.from(x), flat)).toBe(referenceNearest(Array.from(Float32Array.from(x)), Array.from({ length: 8 }, (_, c) => Array.from(flat.subarray(c * 32, c * 32 + 32)))));
    }
  });

  it('standardises with mean and scale', () => {
    expect(Array.from(standardise(new Float32Array([3, 1]), [1, 1], [2, 0.5]))).toEqual([1, 0]);
  });
});
