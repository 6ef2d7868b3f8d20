/**
 * Closing a counts round (one ISO week's segment counts, DESIGN.md §5): the same agreed
 * batch as a k-means round, decoded into k + 1 noisy counts (the last is "no segment")
 * with intervals from the noise that was actually added. Pure over injected I/O.
 */
import { decodeCountAggregate } from '@edgeseg/shared/secure';
import { summariseSecureCounts, type TallySummary } from '../tally.ts';
import { agreeOnBatch, type CloseDeps } from './close.ts';
import { countNoiseVariance, type RoundRecord } from './record.ts';

export type CountsOutcome =
  | { state: 'released'; contributions: number; buckets: Record<string, number>; helperSigma2: string | null; summary: TallySummary }
  | { state: 'abandoned'; contributions: number; reason: string };

/**
 * Closes a counts round: abandoned when its bucket is under the minimum batch or the
 * helper refuses (a retryable refusal throws RetryCloseLater);
 * otherwise the summary marketers see (noisy counts, 95% intervals, suppression).
 *
 * @example
 * const outcome = await closeCountsRound(record, deps, { kThreshold: 50, labels });
 */
export async function closeCountsRound(record: RoundRecord, deps: Omit<CloseDeps, 'publish'>, opts: { kThreshold: number; labels: readonly string[] }): Promise<CountsOutcome> {
  const round = record.descriptor;
  const batch = await agreeOnBatch(record, deps);
  if (!batch.ok) return { state: 'abandoned', contributions: batch.contributions, reason: batch.reason };
  const noisy = new Float64Array(round.k + 1);
  for (const combined of batch.combined.values()) {
    const decoded = decodeCountAggregate(combined, round.k, round.encoding.bound);
    for (let i = 0; i <= round.k; i++) noisy[i] = (noisy[i] as number) + (decoded[i] as number);
  }
  const labels = Array.from({ length: round.k }, (_, i) => opts.labels[i] ?? `Segment ${i + 1}`);
  const summary = summariseSecureCounts({
    noisy,
    noiseVariance: countNoiseVariance({ ...record, helper_sigma2: batch.helperSigma2 }, batch.contributions, batch.combined.size),
    epsilon: round.epsilon,
    kThreshold: opts.kThreshold,
    labels,
    contributions: batch.contributions,
  });
  return { state: 'released', contributions: batch.contributions, buckets: batch.buckets, helperSigma2: batch.helperSigma2, summary };
}
