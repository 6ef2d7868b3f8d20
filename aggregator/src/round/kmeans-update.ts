/**
 * One federated Lloyd step from released aggregates, robust to a device that sent
 * garbage shares (which neither aggregator can range-check): each (slice, group) bucket
 * gives its own cluster means, and a centroid moves to the coordinate-wise median of
 * its groups' means. A device sits in one group, so it can corrupt one group's mean,
 * and a median of G ≥ 3 groups stays within the range of the honest groups' means.
 */

/** One bucket's released aggregate, decoded to real units. */
export interface DecodedAggregate {
  /** k × d coordinate sums, row-major. */
  coordSums: Float64Array;
  counts: Float64Array;
  sqdist: Float64Array;
  silhouette: Float64Array;
}

export interface CentroidUpdate {
  centroids: number[][];
  /** Robust noisy size of each cluster: median group count × number of groups. */
  counts: number[];
  /** True where the old centroid was kept because its noisy count was under the minimum. */
  kept: boolean[];
  /** Robust noisy within-cluster sum of squares (median group total × groups). */
  inertia: number;
  /** Count-weighted mean simplified silhouette, in [−1, 1]. */
  silhouette: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * New centroids from the group aggregates of one slice.
 *
 * @example
 * const next = updateCentroids(model.centroids, groups, { minCount: 50 });
 */
export function updateCentroids(previous: readonly (readonly number[])[], groups: readonly DecodedAggregate[], opts: { minCount: number }): CentroidUpdate {
  const k = previous.length;
  const d = previous[0]?.length ?? 0;
  const G = groups.length;
  const centroids: number[][] = [];
  const counts: number[] = [];
  const kept: boolean[] = [];
  let silhouetteWeighted = 0;
  let silhouetteWeight = 0;
  for (let c = 0; c < k; c++) {
    const groupCounts = groups.map((g) => g.counts[c] as number);
    const total = G === 0 ? 0 : median(groupCounts) * G;
    counts.push(total);
    // Groups whose noisy count is too small to divide by are left out of the median.
    const usable = groups.filter((g) => (g.counts[c] as number) >= 1);
    if (total < opts.minCount || usable.length === 0) {
      centroids.push([...(previous[c] as number[])]);
      kept.push(true);
      continue;
    }
    const row: number[] = [];
    for (let j = 0; j < d; j++) row.push(median(usable.map((g) => (g.coordSums[c * d + j] as number) / (g.counts[c] as number))));
    centroids.push(row);
    kept.push(false);
    const sil = median(usable.map((g) => (g.silhouette[c] as number) / (g.counts[c] as number)));
    silhouetteWeighted += Math.max(-1, Math.min(1, sil)) * total;
    silhouetteWeight += total;
  }
  const inertia = G === 0 ? 0 : median(groups.map((g) => g.sqdist.reduce((a, b) => a + b, 0))) * G;
  return { centroids, counts, kept, inertia, silhouette: silhouetteWeight > 0 ? silhouetteWeighted / silhouetteWeight : 0 };
}
