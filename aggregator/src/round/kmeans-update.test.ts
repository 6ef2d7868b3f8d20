import { describe, expect, it } from 'vitest';
import { updateCentroids, type DecodedAggregate } from './kmeans-update.ts';

function group(means: number[][], count: number): DecodedAggregate {
  const k = means.length;
  const d = means[0]?.length ?? 0;
  const coordSums = new Float64Array(k * d);
  means.forEach((m, c) => m.forEach((v, j) => (coordSums[c * d + j] = v * count)));
  return { coordSums, counts: new Float64Array(k).fill(count), sqdist: new Float64Array(k).fill(count * 0.5), silhouette: new Float64Array(k).fill(count * 0.4) };
}

describe('updateCentroids', () => {
  const previous = [
    [0, 0],
    [5, 5],
  ];

  it('moves each centroid to the median of its groups’ means', () => {
    const groups = [group([[1, 1], [4, 4]], 100), group([[1.2, 0.8], [4.2, 3.8]], 100), group([[0.8, 1.2], [3.8, 4.2]], 100)];
    const u = updateCentroids(previous, groups, { minCount: 50 });
    expect(u.centroids[0]?.[0]).toBeCloseTo(1, 12);
    expect(u.centroids[1]?.[1]).toBeCloseTo(4, 12);
    expect(u.counts).toEqual([300, 300]);
    expect(u.kept).toEqual([false, false]);
    expect(u.inertia).toBeCloseTo(300, 9);
    expect(u.silhouette).toBeCloseTo(0.4, 12);
  });

  it('keeps the old centroid where the noisy count is under the minimum', () => {
    const groups = [group([[1, 1], [4, 4]], 10), group([[1, 1], [4, 4]], 10), group([[1, 1], [4, 4]], 10)];
    const u = updateCentroids(previous, groups, { minCount: 50 });
    expect(u.centroids).toEqual(previous);
    expect(u.kept).toEqual([true, true]);
  });

  it('bounds what one malicious device can do: a garbage group moves a centroid no further than the honest groups spread', () => {
    const honest = [group([[1, 1], [4, 4]], 1000), group([[1.1, 0.9], [4.1, 3.9]], 1000), group([[0.9, 1.1], [3.9, 4.1]], 1000), group([[1.05, 0.95], [4, 4]], 1000)];
    const clean = updateCentroids(previous, honest, { minCount: 50 });
    // One device in group 4 sent shares that decode to an absurd sum (any value mod 2^32).
    const garbage = group([[1, 1], [4, 4]], 1000);
    garbage.coordSums[0] = 2 ** 31;
    garbage.coordSums[3] = -(2 ** 31);
    const attacked = updateCentroids(previous, [...honest, garbage], { minCount: 50 });
    // Stated bound: every coordinate stays within [min, max] of the honest group means,
    // so it moves at most the honest spread (here 0.2) from the clean median.
    for (let c = 0; c < 2; c++) {
      for (let j = 0; j < 2; j++) {
        const honestMeans = honest.map((g) => (g.coordSums[c * 2 + j] as number) / (g.counts[c] as number));
        const v = attacked.centroids[c]?.[j] as number;
        expect(v).toBeGreaterThanOrEqual(Math.min(...honestMeans));
        expect(v).toBeLessThanOrEqual(Math.max(...honestMeans));
        expect(Math.abs(v - (clean.centroids[c]?.[j] as number))).toBeLessThanOrEqual(Math.max(...honestMeans) - Math.min(...honestMeans));
      }
    }
  });
});
