/**
 * Choosing k privately, on the same wire as any k-means round: each disjoint slice of
 * devices runs a candidate k (no extra ε: a device is in one slice). A round has one k,
 * so slices with fewer centroids are padded with sentinel rows placed far outside the
 * clipped feature ball; no device is ever nearest to one, so they collect nothing and
 * are dropped before anything is published.
 */
import type { CentroidUpdate } from './kmeans-update.ts';

/** Every coordinate of a padding row: beyond any clipped standardised vector (L2 ≤ clip ≪ 1e5). */
export const K_SENTINEL = 1e5;

/**
 * Pads a candidate's centroids to `k` rows with sentinel rows.
 *
 * @example
 * padCandidate([[0, 0]], 3) // [[0, 0], [1e5, 1e5], [1e5, 1e5]]
 */
export function padCandidate(centroids: readonly (readonly number[])[], k: number): number[][] {
  const d = centroids[0]?.length ?? 0;
  return [...centroids.map((row) => [...row]), ...Array.from({ length: k - centroids.length }, () => new Array<number>(d).fill(K_SENTINEL))];
}

/**
 * The real (non-sentinel) rows of a slice, in order.
 *
 * @example
 * liveRows([[0, 0], [1e5, 1e5]]) // [0]
 */
export function liveRows(slice: readonly (readonly number[])[]): number[] {
  return slice.flatMap((row, i) => (row.every((v) => v === K_SENTINEL) ? [] : [i]));
}

/** One candidate's private scores, as the round result and `/v1/training` show them. */
export interface KCandidate {
  k: number;
  slice: number;
  /** Count-weighted mean simplified silhouette (higher is better; comparable across k). */
  silhouette: number;
  /** Private inertia per device (decreases with k, so it is reported, not used to choose). */
  inertia_per_device: number;
  /** Robust noisy number of devices in the slice. */
  devices: number;
}

/**
 * Scores each slice's update as a k candidate, keeping only its live rows.
 *
 * @example
 * const c = scoreCandidate(2, round.slices[2], update);
 */
export function scoreCandidate(slice: number, rows: readonly (readonly number[])[], update: CentroidUpdate): KCandidate {
  const live = liveRows(rows);
  const devices = live.reduce((n, c) => n + Math.max(0, update.counts[c] as number), 0);
  return { k: live.length, slice, silhouette: update.silhouette, inertia_per_device: devices > 0 ? update.inertia / devices : Infinity, devices };
}

/**
 * The candidate to keep: highest private silhouette; on a tie (within 0.01) the smaller
 * k, which is easier to act on. Candidates whose slice collected no devices are ignored.
 *
 * @example
 * chooseK([{ k: 4, silhouette: 0.31, … }, { k: 6, silhouette: 0.35, … }]).k // 6
 */
export function chooseK(candidates: readonly KCandidate[]): KCandidate | null {
  let best: KCandidate | null = null;
  for (const c of candidates) {
    if (!(c.devices > 0)) continue;
    if (!best || c.silhouette > best.silhouette + 0.01 || (Math.abs(c.silhouette - best.silhouette) <= 0.01 && c.k < best.k)) best = c;
  }
  return best;
}

/**
 * A candidate's centroids to publish: its live rows only.
 *
 * @example
 * trimToLive(update.centroids, round.slices[s])
 */
export function trimToLive(centroids: readonly (readonly number[])[], rows: readonly (readonly number[])[]): number[][] {
  return liveRows(rows).map((c) => [...(centroids[c] as number[])]);
}
