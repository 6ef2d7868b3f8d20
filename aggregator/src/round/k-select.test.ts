import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, parseManifest, type ModelManifest } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import { chooseK, K_SENTINEL, liveRows, padCandidate, scoreCandidate, trimToLive } from './k-select.ts';
import type { CentroidUpdate } from './kmeans-update.ts';
import { generatedLabels, nextManifest } from './next-model.ts';

const update = (centroids: number[][], counts: number[], silhouette: number, inertia = 100): CentroidUpdate => ({ centroids, counts, kept: counts.map((n) => n < 1), inertia, silhouette });

describe('k selection on disjoint slices', () => {
  it('pads a candidate with sentinel rows no clipped vector is ever nearest to, and finds its live rows again', () => {
    const padded = padCandidate([[0, 1], [2, 3]], 4);
    expect(padded).toEqual([[0, 1], [2, 3], [K_SENTINEL, K_SENTINEL], [K_SENTINEL, K_SENTINEL]]);
    expect(liveRows(padded)).toEqual([0, 1]);
    expect(trimToLive([[9, 9], [8, 8], [7, 7], [6, 6]], padded)).toEqual([[9, 9], [8, 8]]);
  });

  it('scores a slice over its live rows only, and picks the best private silhouette', () => {
    const rows = padCandidate([[0], [1]], 3);
    const two = scoreCandidate(0, rows, update([[0], [1], [K_SENTINEL]], [400, 600, 3], 0.42, 500));
    expect(two).toEqual({ k: 2, slice: 0, silhouette: 0.42, inertia_per_device: 0.5, devices: 1000 });
    const three = scoreCandidate(1, [[0], [1], [2]], update([[0], [1], [2]], [300, 300, 300], 0.55, 270));
    expect(chooseK([two, three])).toBe(three);
  });

  it('breaks a near tie toward the smaller k and ignores a slice that collected nobody', () => {
    const small = { k: 3, slice: 0, silhouette: 0.5, inertia_per_device: 1, devices: 500 };
    const large = { k: 8, slice: 1, silhouette: 0.505, inertia_per_device: 0.5, devices: 500 };
    const empty = { k: 5, slice: 2, silhouette: 0.9, inertia_per_device: Infinity, devices: 0 };
    expect(chooseK([large, empty, small])).toBe(small);
    expect(chooseK([empty])).toBeNull();
  });
});

describe('the next model after a round', () => {
  const d = FEATURE_NAMES_V1.length;
  const base: ModelManifest = {
    version: 4, schema: FEATURE_SCHEMA_ID, features: [...FEATURE_NAMES_V1], k: 2,
    centroids: [new Array<number>(d).fill(0.8), new Array<number>(d).fill(-0.8)],
    scaling: { mean: new Array<number>(d).fill(0.3), scale: new Array<number>(d).fill(0.2) },
    labels: ['old a', 'old b'], lifecycle: { new_days: 14, at_risk_days: 10, lapsed_days: 30 }, epsilon: { report: 2 }, report_period: 'week',
    campaigns: [{ id: 'spring', segment: 1, kind: 'message', title: 'Hello' }], issued_at: 1, not_before: 0,
  };

  it('keeps campaigns when k is unchanged and labels every centroid afresh, uniquely', () => {
    const next = nextManifest(base, [new Array<number>(d).fill(0.7), new Array<number>(d).fill(0.7)], 1000);
    expect(next).toMatchObject({ version: 5, k: 2, issued_at: 1000, not_before: 940, campaigns: base.campaigns });
    expect(next.labels[1]).toBe(`${next.labels[0]} (2)`);
    expect(parseManifest(next).ok).toBe(true);
  });

  it('drops every campaign when k changes, since segment indexes then name new segments', () => {
    const centroids = [0.5, -0.5, 0].map((v) => new Array<number>(d).fill(v));
    const next = nextManifest(base, centroids, 1000);
    expect(next.k).toBe(3);
    expect(next.campaigns).toBeUndefined();
    expect(next.labels).toEqual(generatedLabels(centroids, base.scaling));
    expect(parseManifest(next).ok).toBe(true);
  });
});
