/**
 * Turns a period's raw randomized-report counts into what marketers may see: debiased
 * counts with 95% intervals, and suppression under the k-anonymity threshold. Pure, so
 * it is tested without workerd.
 */
import { grrDebias, LIFECYCLE_STAGES, type LifecycleStage } from '@edgeseg/shared';

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
  /**
   * Secure counts only: the standard deviation of the noise in every count (both
   * aggregators' discrete Gaussians together); public anyway through ε, δ and the ledger.
   */
  noise_sd?: number;
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
  return { reports: contributions, mechanism: 'secure-counts', epsilon, kThreshold, segments, noise_sd: Math.sqrt(noiseVariance) };
}

/** One lifecycle stage's published line: the debiased count and its share of the period's reports. Nulls when suppressed. */
export interface LifecycleShare {
  stage: LifecycleStage;
  count: number | null;
  ci95: [number, number] | null;
  /** count ÷ reports, in [0, 1]. */
  share: number | null;
  share_ci95: [number, number] | null;
  suppressed: boolean;
}

/** A period's lifecycle shares, from weekly GRR lifecycle reports or a secure lifecycle counts round (never from one device's stage). */
export interface LifecycleRelease {
  /**
   * Lifecycle reports received (GRR), or valid contributions to the counts round (secure,
   * devices without a stage included as "none"): exact, and the denominator of every share.
   */
  reports: number;
  mechanism: TallySummary['mechanism'];
  epsilon: number;
  kThreshold: number;
  stages: LifecycleShare[];
}

/**
 * Lifecycle shares from a lifecycle tally's release (summariseTally over the four stages,
 * in LIFECYCLE_STAGES order) or a secure lifecycle counts round's (summariseSecureCounts,
 * a fifth "none" line after them). A share is a count over the exact number of reports,
 * and its interval the count's interval over it.
 *
 * @example
 * lifecycleRelease(summariseTally({ counts: [200, 500, 200, 100], epsilon: 1, kThreshold: 50, labels: LIFECYCLE_STAGES })).stages[1].share
 */
export function lifecycleRelease(summary: TallySummary): LifecycleRelease {
  const { reports, epsilon, kThreshold } = summary;
  const ratio = (x: number) => (reports > 0 ? Math.min(1, Math.max(0, x / reports)) : 0);
  const stages = LIFECYCLE_STAGES.map((stage, i): LifecycleShare => {
    const line = summary.segments[i];
    if (!line || line.suppressed || line.count === null || line.ci95 === null) return { stage, count: null, ci95: null, share: null, share_ci95: null, suppressed: true };
    return { stage, count: line.count, ci95: line.ci95, share: ratio(line.count), share_ci95: [ratio(line.ci95[0]), ratio(line.ci95[1])], suppressed: false };
  });
  return { reports, mechanism: summary.mechanism, epsilon, kThreshold, stages };
}
