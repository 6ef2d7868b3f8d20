/**
 * Device features through the SDK's own code: every event folded into a FeatureState with
 * `updateFeatureState` in the device's time zone, the vector read with `featureVector`
 * (as client-sdk/src/segmenter.ts does), then standardised with `standardise` and the
 * manifest-style scaling (mean, scale per feature).
 */
import { emptyFeatureState, FEATURE_DIM_V1, featureVector, lifecycleStage, standardise, updateFeatureState, type LifecycleRules, type LifecycleStage, type PlaybackEvent } from '@edgeseg/shared';

/** Lifecycle thresholds of the bootstrap model (worker/src/bootstrap-model.ts). */
export const LIFECYCLE_RULES: LifecycleRules = { new_days: 14, at_risk_days: 10, lapsed_days: 30 };

/**
 * The raw v1 vector of one device at `now`, and its lifecycle stage: `replay` hands every
 * event of the device, in time order, to the fold it is given.
 *
 * @example
 * const { raw, stage } = deviceFeatures((fold) => events.forEach(fold), 300, now);
 */
export function deviceFeatures(replay: (fold: (e: PlaybackEvent) => void) => void, tzOffsetMin: number, now: number): { raw: Float32Array; stage: LifecycleStage | null } {
  const state = emptyFeatureState();
  replay((e) => {
    updateFeatureState(state, e, tzOffsetMin);
  });
  return { raw: featureVector(state, now) ?? new Float32Array(FEATURE_DIM_V1), stage: lifecycleStage(state, now, LIFECYCLE_RULES) };
}

/** The manifest's `scaling`: per feature mean and scale (a constant feature gets scale 1). */
export interface Scaling {
  mean: number[];
  scale: number[];
}

/**
 * Mean and standard deviation per column of an n × d matrix (scale 1 where a column is constant).
 *
 * @example
 * const scaling = scalingOf(raw, 31);
 */
export function scalingOf(raw: Float32Array, d: number): Scaling {
  const n = raw.length / d;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (raw[i * d + j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / Math.max(1, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j] = (sq[j] as number) + ((raw[i * d + j] as number) - (mean[j] as number)) ** 2;
  const scale = sq.map((s) => {
    const sd = Math.sqrt(s / Math.max(1, n));
    return sd > 1e-6 ? sd : 1;
  });
  return { mean, scale };
}

/**
 * Standardises every row in place with the SDK's `standardise`.
 *
 * @example
 * standardiseRows(matrix, 31, scaling);
 */
export function standardiseRows(matrix: Float32Array, d: number, scaling: Scaling): Float32Array {
  for (let off = 0; off < matrix.length; off += d) {
    const row = matrix.subarray(off, off + d);
    standardise(row, scaling.mean, scaling.scale, row);
  }
  return matrix;
}
