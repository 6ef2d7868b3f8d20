/**
 * A round as the leader's coordinator keeps it: the public descriptor devices see (and
 * the helper accepted), plus the leader's settings and outcome. Pure types and helpers.
 */
import { measureOf, type CountsMeasure, type RoundDescriptor } from '@edgeseg/shared';
import type { TallySummary } from '../tally.ts';
import type { KCandidate } from './k-select.ts';

export type RoundState = 'open' | 'closing' | 'released' | 'abandoned';

/** Outcome of a released k-means round. */
export interface RoundResult {
  /** Model version published from this round. */
  model_version: number;
  /** Robust noisy cluster sizes. */
  counts: number[];
  kept: boolean[];
  inertia: number;
  silhouette: number;
  /** The slice whose candidate won (initialisation rounds by private inertia; k selection by private silhouette). */
  slice: number;
  /** k-selection rounds: every candidate's private scores; the winner's k is the published model's. */
  candidates?: KCandidate[];
}

export interface RoundRecord {
  descriptor: RoundDescriptor;
  /** Number of RoundShard DOs the round is spread over on this aggregator. */
  shards: number;
  /** σ² of the discrete Gaussian this aggregator adds to each entry of each bucket, "num/den". */
  sigma2: string;
  /**
   * The round's Prio3 verify key (base64url, 16 bytes), shared with the helper only: it
   * keys report preparation and each report's group. Never in the descriptor or any
   * public answer ({@link publicRound} leaves it out).
   */
  verify_key: string;
  /** Secure rounds, once closed: reports the helper found invalid (their proof failed), dropped from the sums. */
  rejected?: number;
  /** Secure rounds: σ² the helper says it adds ("num/den"), from its answers; the intervals count both. */
  helper_sigma2?: string | null;
  state: RoundState;
  /** When an operator asked to close the round early (the descriptor keeps its close time: the helper holds it to that). */
  close_requested_at?: number | null;
  /** Close attempts that had to be retried (helper unreachable, batch still relaying, helper's clock before the close). */
  close_attempts?: number;
  /** Once released: per released bucket (`slice:group`), its number of contributions (the helper's count, equal to the leader's). */
  buckets?: Record<string, number> | null;
  opened_at: number;
  closed_at: number | null;
  contributions: number | null;
  reason: string | null;
  result: RoundResult | null;
  /** k-selection rounds: slice s runs a candidate of `k_candidates[s]` live centroids (the rest are sentinel rows). */
  k_candidates?: number[];
  /** Counts rounds: what the release needs to label and suppress (fixed when the round opens). */
  counts?: { k_threshold: number; labels: string[] };
  /** Counts rounds, once released: the marketers' view (not public: served by `/v1/segments` to marketers only). */
  summary?: TallySummary | null;
}

/** What `GET /v1/rounds` and the public privacy ledger show of a round. */
export interface PublicRound {
  round_id: string;
  kind: RoundDescriptor['kind'];
  /** Counts rounds: what they count (segment, lifecycle or impressions) and the ISO week; null for k-means rounds. */
  measure: CountsMeasure | null;
  period: string | null;
  mode: RoundDescriptor['mode'];
  state: RoundState;
  model_version: number;
  opened_at: number;
  closes_at: number;
  closed_at: number | null;
  contributions: number | null;
  /** Reports dropped because their validity proof failed (secure rounds, once closed); null before. */
  rejected: number | null;
  /** Minimum contributions per released bucket. */
  min_batch: number;
  epsilon: number;
  delta: number;
  /** This aggregator's σ² per entry ("num/den"). */
  sigma2: string;
  /** Released buckets and their sizes (the helper's counts, equal to the leader's); null until released. */
  buckets: Record<string, number> | null;
  mechanism: string;
  reason: string | null;
  result: RoundResult | null;
}

/**
 * The round's σ² as an exact rational (it is stored as "num/den").
 *
 * @example
 * roundSigma2({ ...record, sigma2: '9/2' }) // { num: 9n, den: 2n }
 */
export function roundSigma2(r: Pick<RoundRecord, 'sigma2'>): { num: bigint; den: bigint } {
  const [num, den] = r.sigma2.split('/');
  return { num: BigInt(num as string), den: BigInt(den ?? '1') };
}

/**
 * Total noise variance of one released entry (a count, or a coordinate sum before its
 * scale), summed over `buckets`: in secure mode each
 * of the two aggregators adds a discrete Gaussian of variance ≤ σ² per bucket (slightly
 * under σ², so the interval is conservative); in local mode every device added its own,
 * so n·σ² in all.
 *
 * @example
 * countNoiseVariance(record, 1000, 1) // σ²_leader + σ²_helper (secure) or 1000σ² (local)
 */
export function countNoiseVariance(record: RoundRecord, contributions: number, buckets: number): number {
  const sigma2 = sigma2Number(record.sigma2);
  if (record.descriptor.mode !== 'secure') return contributions * sigma2;
  // The helper computes its σ² itself; where it said what it is, count that, not ours twice.
  const helper = record.helper_sigma2 ? sigma2Number(record.helper_sigma2) : sigma2;
  return (sigma2 + helper) * buckets;
}

function sigma2Number(rational: string): number {
  const [num, den] = rational.split('/').map(Number) as [number, number | undefined];
  return num / (den || 1);
}

/**
 * The mechanism line of the public ledger: who adds which noise.
 *
 * @example
 * mechanismOf(record) // 'discrete Gaussian, σ²=…, added in full by each of 2 aggregators'
 */
export function mechanismOf(r: RoundRecord): string {
  const [num, den] = r.sigma2.split('/').map(Number) as [number, number];
  const sigma2 = (num / (den || 1)).toPrecision(6);
  return r.descriptor.mode === 'secure'
    ? `discrete Gaussian, σ²=${sigma2} per entry, added in full by each of 2 aggregators (ε holds if either is honest)`
    : `discrete Gaussian, σ²=${sigma2} per entry, added by each device (local mode)`;
}

/**
 * The public view of a round.
 *
 * @example
 * const rows = records.map(publicRound);
 */
export function publicRound(r: RoundRecord): PublicRound {
  const d = r.descriptor;
  return {
    round_id: d.round_id,
    kind: d.kind,
    measure: d.kind === 'counts' ? measureOf(d) : null,
    period: d.period ?? null,
    mode: d.mode,
    state: r.state,
    model_version: d.model_version,
    opened_at: r.opened_at,
    closes_at: d.closes_at,
    closed_at: r.closed_at,
    contributions: r.contributions,
    rejected: r.rejected ?? null,
    min_batch: d.min_batch,
    epsilon: d.epsilon,
    delta: d.delta,
    sigma2: r.sigma2,
    buckets: r.buckets ?? null,
    mechanism: mechanismOf(r),
    reason: r.reason,
    result: r.result,
  };
}
