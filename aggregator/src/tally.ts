/**
 * Turns a period's raw randomized-report counts into what marketers may see: debiased
 * counts with 95% intervals, and suppression under the k-anonymity threshold. Pure, so
 * it is tested without workerd.
 */
import { grrDebias } from '@edgeseg/shared';

/** One segment's published line. `count` and `ci95` are null when suppressed. */
export interface SegmentCount {
  segment: number;
  label: string;
  count: number | null;
  ci95: [number, number] | null;
  suppressed: boolean;
}

export interface TallySummary {
  /** Number of reports (GRR) or contributions (secure counts) received: the only exact figure, and not per segment. */
  reports: number;
  /** `grr`: randomized reports, debiased; `secure-counts`: a secret-shared one-hot sum with central discrete Gaussian noise. */
  mechanism: 'grr' | 'secure-counts';
  epsilon: number;
  kThreshold: number;
  segments: SegmentCount[];
}

const Z_95 = 1.959964;

/**
 * Debiases the counts of one (model version, period) and suppresses every segment whose
 * estimate is below `kThreshold`.
 *
 * @example
 * summariseTally({ counts: [300, 40, 35, 25], epsilon: Math.log(3), kThreshold: 50,
 *   labels: ['a', 'b', 'c', 'd'] }).segments[0].count
 */
export function summariseTally(input: { counts: readonly number[]; epsilon: number; kThreshold: number; labels: readonly string[] }): TallySummary {
  const { counts, epsilon, kThreshold, labels } = input;
  const { estimate, stdError } = grrDebias(counts, epsilon);
  const segments = estimate.map((est, segment): SegmentCount => {
    const label = labels[segment] ?? `Segment ${segment + 1}`;
    if (est < kThreshold) return { segment, label, count: null, ci95: null, suppressed: true };
    const half = Z_95 * (stdError[segment] as number);
    return { segment, label, count: Math.round(est), ci95: [Math.max(0, Math.round(est - half)), Math.round(est + half)], suppressed: false };
  });
  return { reports: counts.reduce((a, b) => a + b, 0), mechanism: 'grr', epsilon, kThreshold, segments };
}

/**
 * What marketers may see of a secure counts round: the noisy one-hot sums (k segments,
 * then "no segment"), each with the 95% interval of the noise actually added (both
 * aggregators' discrete Gaussians, total variance `noiseVariance`), and suppression
 * under the k-anonymity threshold. `contributions` is the exact batch size both
 * aggregators agreed on before releasing.
 *
 * @example
 * summariseSecureCounts({ noisy: [812, 40, 7], noiseVariance: 2 * 9.3, epsilon: 1, kThreshold: 50, labels: ['a', 'b'], contributions: 860 })
 */
export function summariseSecureCounts(input: { noisy: ArrayLike<number>; noiseVariance: number; epsilon: number; kThreshold: number; labels: readonly string[]; contributions: number }): TallySummary {
  const { noisy, noiseVariance, epsilon, kThreshold, labels, contributions } = input;
  const half = Z_95 * Math.sqrt(noiseVariance);
  const segments = labels.map((label, segment): SegmentCount => {
    const est = noisy[segment] ?? 0;
    if (est < kThreshold) return { segment, label, count: null, ci95: null, suppressed: true };
    return { segment, label, count: Math.round(est), ci95: [Math.max(0, Math.round(est - half)), Math.round(est + half)], suppressed: false };
  });
  return { reports: contributions, mechanism: 'secure-counts', epsilon, kThreshold, segments };
}
