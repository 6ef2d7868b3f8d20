/**
 * The manifest a released k-means round publishes: the same model with new centroids,
 * labels generated from them (so a label never describes a segment that moved away),
 * and campaigns carried over only while segment indexes keep their meaning.
 */
import { describeCentroid, type ModelManifest } from '@edgeseg/shared';

/**
 * Labels for centroids, made unique (two segments with the same generated words get
 * "(2)", "(3)": a marketer must be able to tell them apart).
 *
 * @example
 * generatedLabels(manifest.centroids, manifest.scaling) // ['Evening drama bingers…', …]
 */
export function generatedLabels(centroids: readonly (readonly number[])[], scaling: ModelManifest['scaling']): string[] {
  const seen = new Map<string, number>();
  return centroids.map((c) => {
    const label = describeCentroid(c, scaling).label;
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} (${n})`;
  });
}

/**
 * Version + 1 of `current` with `centroids`. When k is unchanged, a round moved each
 * centroid a step, so segment i is still segment i and campaigns stay; when k changed
 * (k selection, an admin's new k), the segments are new and every campaign is dropped
 * rather than shown to whoever now holds its old index.
 *
 * @example
 * const next = nextManifest(current, update.centroids, Math.floor(Date.now() / 1000));
 */
export function nextManifest(current: ModelManifest, centroids: number[][], nowS: number): ModelManifest {
  const sameK = centroids.length === current.k;
  const { campaigns, ...rest } = current;
  return {
    ...rest,
    version: current.version + 1,
    k: centroids.length,
    centroids,
    labels: generatedLabels(centroids, current.scaling),
    ...(sameK && campaigns ? { campaigns } : {}),
    issued_at: nowS,
    not_before: nowS - 60,
  };
}
