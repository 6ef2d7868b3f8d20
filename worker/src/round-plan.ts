/**
 * Planning a round: turns an admin's request (duration, minimum batch per bucket, ε, δ,
 * groups, slices) into the leader's record and the descriptor devices see and the helper
 * is asked to accept.
 */
import { dataIndependentStart, padCandidate, START_HALF_WIDTH, TRAINING_ENCODING, type RoundRecord } from '@edgeseg/aggregator/rounds';
import { countsCategories, countsCloseMs, cryptoRandom, type ContributionEncoding, type CountsMeasure, type HpkeConfig, type ModelManifest, type Period } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { bytesToBase64url, newVerifyKey } from '@edgeseg/shared/secure';

/**
 * Standardised feature vectors have norm ≈ √d ≈ 5.6 for d = 31, so a clip of 8 keeps
 * almost every device whole; a bound of 127 keeps each entry within the range a secure
 * round's validity proof checks (aggregator/src/training/encoding.ts says why); the
 * weights give the coordinates most of the L2 budget (Σ w² = 0.9925 ≤ 1).
 */
export const DEFAULT_ENCODING: ContributionEncoding = TRAINING_ENCODING; // one definition, shared with the simulator

export interface RoundPlanInput {
  manifest: ModelManifest;
  nowS: number;
  durationS: number;
  /** Minimum contributions per released bucket (slice, group). */
  minBatch: number;
  epsilon: number;
  delta: number;
  groups: number;
  slices: number;
  shards: number;
  encoding: ContributionEncoding;
  /** Secure rounds name both aggregators; a local round (single operator) only the leader. */
  hpke: { leader: HpkeConfig; helper?: HpkeConfig };
  /** `secure` (default): shares to two aggregators, each adding the full noise; `local`: each device adds it. */
  mode?: 'secure' | 'local';
  /**
   * Train a new k instead of refining the model: every slice starts a data-independent
   * candidate with this many centroids, and the best by private inertia is published.
   */
  k?: number;
  /** Choose k: slice s runs a data-independent candidate with `kCandidates[s]` centroids; the best private silhouette wins. */
  kCandidates?: number[];
}

function randomHex(bytes: number): string {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  cryptoRandom(words);
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('').slice(0, bytes * 2);
}

/**
 * A data-independent candidate start from the platform CSPRNG: the training schedule's
 * start (the one the simulator measures), never seeded from any device's data.
 */
function candidateStart(k: number, d: number): number[][] {
  return dataIndependentStart(k, d, START_HALF_WIDTH, cryptoRandom);
}

/**
 * The record of a new k-means round: slice 0 refines the current model; further slices
 * (initialisation) start from data-independent candidates on disjoint device slices.
 * Each aggregator adds the full σ² for (ε, δ) at the vector's L2 sensitivity, so the
 * guarantee holds even if the other aggregator adds nothing.
 *
 * @example
 * const record = planRound({ manifest, nowS, durationS: 3600, minBatch: 100, epsilon: 1, delta: 1e-9, groups: 8, slices: 1, shards: 8, encoding: DEFAULT_ENCODING, hpke });
 */
export function planRound(p: RoundPlanInput): RoundRecord {
  const { manifest } = p;
  const d = manifest.features.length;
  const mode = p.mode ?? 'secure';
  const slices = candidateSlices(p, d);
  const k = slices[0]?.length ?? manifest.k;
  // Secure: each aggregator adds σ² for (ε, δ) itself. Local: each device adds the same
  // σ² to its own vector, so it alone gives (ε, δ) — far noisier in total (n·σ²).
  const sigma2 = sigma2ForEpsilon(p.epsilon, p.delta, p.encoding.bound);
  return {
    descriptor: {
      round_id: `r-${p.nowS}-${randomHex(4)}`,
      kind: 'kmeans',
      mode,
      model_version: manifest.version,
      k,
      d,
      slices,
      groups: p.groups,
      encoding: p.encoding,
      epsilon: p.epsilon,
      delta: p.delta,
      opens_at: p.nowS,
      closes_at: p.nowS + p.durationS,
      min_batch: p.minBatch,
      ...(mode === 'local' ? { local_sigma2: Number(sigma2.num) / Number(sigma2.den) } : {}),
      hpke: mode === 'local' ? { leader: p.hpke.leader } : p.hpke,
    },
    ...openState(p, sigma2),
    ...(p.kCandidates ? { k_candidates: [...p.kCandidates] } : {}),
  };
}

/**
 * The server-side part of a just-opened round's record: its settings and a fresh Prio3
 * verify key (the leader's and helper's secret for the round), nothing closed yet.
 */
function openState(p: { shards: number; nowS: number }, sigma2: { num: bigint; den: bigint }): Omit<RoundRecord, 'descriptor'> {
  return { shards: p.shards, sigma2: `${sigma2.num}/${sigma2.den}`, verify_key: bytesToBase64url(newVerifyKey()), state: 'open', opened_at: p.nowS, closed_at: null, contributions: null, reason: null, result: null };
}

/**
 * The centroid sets a k-means round starts from: the current model plus data-independent
 * candidates (refinement), only candidates at a new k, or one candidate per k padded with
 * sentinel rows to the largest (k selection).
 */
function candidateSlices(p: RoundPlanInput, d: number): number[][][] {
  if (p.kCandidates) {
    const kMax = Math.max(...p.kCandidates);
    return p.kCandidates.map((k) => padCandidate(candidateStart(k, d), kMax));
  }
  if (p.k !== undefined && p.k !== p.manifest.k) return Array.from({ length: p.slices }, () => candidateStart(p.k as number, d));
  return [p.manifest.centroids, ...Array.from({ length: p.slices - 1 }, () => candidateStart(p.manifest.k, d))];
}

/**
 * Counts rounds carry one-hot vectors of 0/1 (bound 1): the weights are unused there but
 * must form a valid encoding (Σ w² = 1).
 */
export const COUNTS_ENCODING: ContributionEncoding = { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } };

/**
 * The id of the counts round of one (period, model version, measure): deterministic, so
 * the leader, the helper and concurrent requests all name the same round. Segment rounds
 * keep the id they had before lifecycle stages and impressions were counted securely.
 *
 * @example
 * countsRoundId('2026-W48', 3) // 'c-2026-W48-v3'
 * countsRoundId('2026-W48', 3, 'lifecycle') // 'c-2026-W48-v3-lifecycle'
 */
export function countsRoundId(period: Period, modelVersion: number, measure: CountsMeasure = 'segment'): string {
  return `c-${period}-v${modelVersion}${measure === 'segment' ? '' : `-${measure}`}`;
}

export interface CountsPlanInput {
  manifest: ModelManifest;
  /** What the round counts (counts-measure.ts in shared): segments, lifecycle stages or impressions. */
  measure: CountsMeasure;
  /** The week counted (for impressions, the week before the one devices report in). */
  period: Period;
  nowS: number;
  /** Minimum contributions the round's one bucket needs to be released. */
  minBatch: number;
  /**
   * ε the round charges (counts-epsilon.ts): each measure's weekly rounds close 7 days
   * apart, so at most five of each close in any 30 days.
   */
  epsilon: number;
  kThreshold: number;
  delta: number;
  shards: number;
  hpke: { leader: HpkeConfig; helper: HpkeConfig };
}

/**
 * The record of a period's secure counts round of one measure: devices under
 * `measurement` contribute the one-hot of their segment, lifecycle stage or one campaign
 * shown (or the last, "none" entry), charged `p.epsilon`; it closes once the week it is
 * reported in and the grace period are over, so an open week is never released. Each
 * aggregator adds the full σ² for (ε, δ) at L2 sensitivity 1 (one device added or
 * removed). Throws when the model has nothing to count (impressions without campaigns).
 *
 * @example
 * const record = planCountsRound({ manifest, measure: 'segment', period: '2026-W48', nowS, minBatch: 100, epsilon: 0.4, kThreshold: 50, delta: 1e-9, shards: 8, hpke });
 */
export function planCountsRound(p: CountsPlanInput): RoundRecord {
  const { manifest, epsilon, measure } = p;
  const labels = countsCategories(measure, manifest);
  if (labels.length === 0) throw new RangeError(`planCountsRound: model v${manifest.version} has nothing to count for ${measure}`);
  const sigma2 = sigma2ForEpsilon(epsilon, p.delta, COUNTS_ENCODING.bound);
  return {
    descriptor: {
      round_id: countsRoundId(p.period, manifest.version, measure),
      kind: 'counts',
      mode: 'secure',
      model_version: manifest.version,
      k: labels.length,
      d: 0,
      slices: [labels.map(() => [])],
      groups: 1,
      encoding: COUNTS_ENCODING,
      epsilon,
      delta: p.delta,
      opens_at: p.nowS,
      closes_at: Math.ceil(countsCloseMs(measure, p.period) / 1000),
      min_batch: p.minBatch,
      period: p.period,
      ...(measure === 'segment' ? {} : { measure }),
      hpke: p.hpke,
    },
    ...openState(p, sigma2),
    counts: { k_threshold: p.kThreshold, labels },
    summary: null,
  };
}
