/**
 * When to retrain: a drift score from what has already been released (no new ε), and
 * the cadence an operator set. Pure, so the schedule is tested without workerd.
 */
import { TRAINING_GROUPS } from '../training/groups.ts';

/**
 * How far the last training moved the centroids: the mean over centroids of their L2
 * move, divided by √d (so 1 means every coordinate moved one standard deviation).
 * Null when k changed (no centroid has a counterpart).
 *
 * @example
 * centroidShift([[0, 0]], [[0.3, 0.4]]) // 0.5 / √2 ≈ 0.354
 */
export function centroidShift(before: readonly (readonly number[])[], after: readonly (readonly number[])[]): number | null {
  if (before.length !== after.length || before.length === 0) return null;
  const d = before[0]?.length ?? 0;
  let total = 0;
  for (let c = 0; c < before.length; c++) {
    const a = before[c] as readonly number[];
    const b = after[c] as readonly number[];
    let s = 0;
    for (let j = 0; j < d; j++) s += ((a[j] as number) - (b[j] as number)) ** 2;
    total += Math.sqrt(s);
  }
  return total / before.length / Math.sqrt(Math.max(1, d));
}

/**
 * How far the segment shares moved between two released periods: total variation
 * distance (½ Σ |p − q|, in [0, 1]). Suppressed or negative counts count as 0. Null when
 * either period released nothing.
 *
 * @example
 * shareShift([50, 50], [80, 20]) // 0.3
 */
export function shareShift(before: readonly (number | null)[], after: readonly (number | null)[]): number | null {
  const norm = (xs: readonly (number | null)[]) => {
    const v = xs.map((x) => Math.max(0, x ?? 0));
    const sum = v.reduce((a, b) => a + b, 0);
    return sum > 0 ? v.map((x) => x / sum) : null;
  };
  const p = norm(before);
  const q = norm(after);
  if (!p || !q || p.length !== q.length) return null;
  return p.reduce((s, x, i) => s + Math.abs(x - (q[i] as number)), 0) / 2;
}

/** The training schedule an operator sets (`PUT /v1/admin/training`). */
export interface TrainingSettings {
  /** Retrain at least this often, in days; 0 turns scheduled retraining off. */
  cadence_days: number;
  /** Retrain as soon as the drift score reaches this. */
  drift_threshold: number;
  /** The round a scheduled retraining opens. */
  /** `min_batch`: minimum contributions per released bucket (per group of a slice). */
  round: { duration_s: number; min_batch: number; epsilon: number; delta: number; groups: number; slices: number };
}

/** The schedule out of the box: retraining off until an operator sets a cadence. */
export const DEFAULT_TRAINING: TrainingSettings = {
  cadence_days: 0,
  drift_threshold: 0.5,
  round: { duration_s: 86_400, min_batch: 125, epsilon: 1, delta: 1e-9, groups: TRAINING_GROUPS, slices: 1 },
};

/**
 * Whether to open a retraining round now, and why: never while a k-means round is open;
 * when the drift score reached the threshold; or when the cadence has elapsed since the
 * last training (or since the schedule was set, if the model was never trained).
 *
 * @example
 * trainingDue({ nowS, settings, lastTrainedAt: 0, scheduledFrom: nowS - 8 * 86400, drift: null, roundOpen: false })
 * // { due: true, reason: 'cadence: 7 days since the last training' }
 */
export function trainingDue(input: { nowS: number; settings: TrainingSettings; lastTrainedAt: number | null; scheduledFrom: number; drift: number | null; roundOpen: boolean }): { due: boolean; reason: string; next_at: number | null } {
  const { nowS, settings, lastTrainedAt, scheduledFrom, drift, roundOpen } = input;
  const next = settings.cadence_days > 0 ? Math.max(lastTrainedAt ?? 0, scheduledFrom) + settings.cadence_days * 86_400 : null;
  if (roundOpen) return { due: false, reason: 'a k-means round is open', next_at: next };
  if (drift !== null && drift >= settings.drift_threshold) return { due: true, reason: `drift score ${drift.toFixed(3)} reached the threshold ${settings.drift_threshold}`, next_at: nowS };
  if (next !== null && nowS >= next) return { due: true, reason: `cadence: ${settings.cadence_days} days since the last training`, next_at: next };
  return { due: false, reason: next === null ? 'scheduled retraining is off' : 'not due yet', next_at: next };
}
