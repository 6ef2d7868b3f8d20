/**
 * Closing a k-means round on the leader, as a pure orchestration over injected I/O so
 * it is tested without workerd: both aggregators must agree on the batch (count and id
 * checksum per bucket) before either releases; each adds its own noise once; the
 * leader combines the two noisy shares, decodes them, and moves the centroids robustly.
 */
import { cryptoRandom, type RandomSource } from '@edgeseg/shared';
import { combineFieldShares, decodeKmeansAggregate, encodingScales, removeOffset, zeroFieldVector } from '@edgeseg/shared/secure';
import { checksumHex, type Bucket } from './bucket.ts';
import { updateCentroids, type CentroidUpdate, type DecodedAggregate } from './kmeans-update.ts';
import { minCountFor, privateInertiaPerDevice, reviveDead, selectCandidate, shrinkMoves } from '../training/schedule.ts';
import { chooseK, liveRows, scoreCandidate, trimToLive, type KCandidate } from './k-select.ts';
import { countNoiseVariance, roundSigma2, type RoundRecord, type RoundResult } from './record.ts';

/** What each aggregator checks before it releases: per bucket, the count and the id checksum. */
export type BatchSelector = Record<string, { count: number; checksum: string }>;

/**
 * The helper's answer to an aggregate-share request (contract §3.3): its noisy shares
 * (Field128 vectors) of the buckets it released, its own counts, the buckets it withheld and why, and its σ²;
 * or its refusal, by `rule`.
 */
export type HelperAggregate =
  | { ok: true; shares: Record<string, bigint[]>; counts: Record<string, number>; withheld: Record<string, string>; sigma2: string }
  | { ok: false; rule: string; reason: string };

/**
 * Refusals that pass by themselves: a relay may still be in flight (`batch-mismatch`), or
 * the helper's clock is not yet past the close (`too-early`). Any other refusal is final.
 */
export const RETRYABLE_RELEASE_RULES: readonly string[] = ['batch-mismatch', 'too-early'];

/**
 * Thrown when a close cannot finish now but may later (a retryable refusal, or the helper
 * unreachable): the coordinator keeps the round closing and tries again, no earlier than
 * `notBefore` (epoch seconds) when given.
 *
 * @example
 * throw new RetryCloseLater('too-early', 'the helper releases after 1900000000', 1_900_000_000);
 */
export class RetryCloseLater extends Error {
  /** The helper's rule (`batch-mismatch`, `too-early`) or why it could not be asked (`helper-unreachable`, `invalid-answer`). */
  readonly rule: string;
  /** Epoch seconds before which a retry is pointless, or null. */
  readonly notBefore: number | null;

  // Plain fields, not parameter properties: the simulator runs this file with Node's type stripping.
  constructor(rule: string, reason: string, notBefore: number | null = null) {
    super(reason);
    this.name = 'RetryCloseLater';
    this.rule = rule;
    this.notBefore = notBefore;
  }
}

export interface CloseDeps {
  /** The leader's buckets of verified reports, all shards merged (after no report is left pending). */
  gather(): Promise<Map<string, Bucket>>;
  /** The helper's answer for the same batch; throws RetryCloseLater when it could not be asked. */
  helperAggregate(selector: BatchSelector): Promise<HelperAggregate>;
  /** The leader's noisy copy of a bucket's field sums: noise drawn once per bucket and kept. */
  noisy(bucket: string, sums: bigint[]): Promise<bigint[]>;
  /** Data-independent randomness for reviving dead centroids (default `crypto.getRandomValues`). */
  random?: RandomSource;
  /** Signs and publishes the next model with these centroids; returns its version. */
  publish(centroids: number[][], update: CentroidUpdate): Promise<number>;
}

export type CloseOutcome =
  | { state: 'released'; contributions: number; buckets: Record<string, number>; helperSigma2: string | null; result: RoundResult }
  | { state: 'abandoned'; contributions: number; reason: string };

/**
 * The batch selector of a set of buckets.
 *
 * @example
 * const selector = selectorOf(buckets);
 */
export function selectorOf(buckets: Map<string, Bucket>): BatchSelector {
  return Object.fromEntries([...buckets].map(([key, b]) => [key, { count: b.count, checksum: checksumHex(b.checksum) }]));
}

/** The batch both sides agreed on, combined: per released bucket, the noisy total as signed integers (offset removed). */
export type AgreedBatch =
  | {
      ok: true;
      /** Contributions in the released buckets. */
      contributions: number;
      combined: Map<string, Float64Array>;
      /** Released bucket → its number of contributions. */
      buckets: Record<string, number>;
      /** The helper's σ² ("num/den"), null in local mode. */
      helperSigma2: string | null;
    }
  | { ok: false; contributions: number; reason: string };

/**
 * The part every kind of round shares at close: gather this aggregator's buckets, keep
 * only those with at least the round's minimum batch (`min_batch`, per bucket: a small
 * bucket is never released by either aggregator), have the helper release its noisy
 * shares for exactly the same batch (secure mode), and combine: the two noisy field
 * shares summed and read as signed integers, less the k-means offset × the bucket's
 * count ({@link removeOffset}). The helper's counts must equal the leader's for every
 * released bucket. In local mode the devices added the noise (and no offset), so the
 * leader's sums read as signed integers are the release and no helper is asked.
 *
 * A helper refusal whose rule is in RETRYABLE_RELEASE_RULES throws RetryCloseLater; any
 * other refusal abandons the round with the helper's reason.
 *
 * @example
 * const batch = await agreeOnBatch(record, deps);
 * if (batch.ok) for (const [key, total] of batch.combined) use(key, total);
 */
export async function agreeOnBatch(record: RoundRecord, deps: Omit<CloseDeps, 'publish'>): Promise<AgreedBatch> {
  const round = record.descriptor;
  const buckets = await deps.gather();
  const total = [...buckets.values()].reduce((n, b) => n + b.count, 0);
  const large = [...buckets].filter(([, b]) => b.count >= round.min_batch);
  if (large.length === 0) {
    const largest = Math.max(0, ...[...buckets.values()].map((b) => b.count));
    return { ok: false, contributions: total, reason: `${total} contributions, no bucket reached the minimum batch of ${round.min_batch} (largest ${largest})` };
  }
  const combined = new Map<string, Float64Array>();
  const sizes: Record<string, number> = {};
  if (round.mode === 'local') {
    for (const [key, bucket] of large) {
      combined.set(key, combineFieldShares(bucket.sums, zeroFieldVector(bucket.sums.length)));
      sizes[key] = bucket.count;
    }
    return { ok: true, contributions: sum(sizes), combined, buckets: sizes, helperSigma2: null };
  }
  // The helper checks the whole batch (small buckets included), then releases only its
  // buckets of at least min_batch, as it counted them.
  const helper = await deps.helperAggregate(selectorOf(buckets));
  if (!helper.ok) {
    if (RETRYABLE_RELEASE_RULES.includes(helper.rule)) throw new RetryCloseLater(helper.rule, `helper: ${helper.reason}`, helper.rule === 'too-early' ? round.closes_at : null);
    return { ok: false, contributions: total, reason: `helper refused to release (${helper.rule}): ${helper.reason}` };
  }
  for (const [key, bucket] of large) {
    const share = helper.shares[key];
    if (!share) continue; // withheld by the helper: never released by the leader alone
    const helperCount = helper.counts[key];
    if (helperCount !== bucket.count) {
      return { ok: false, contributions: total, reason: `the helper counted ${String(helperCount)} contributions in bucket ${key}, the leader ${bucket.count}: the batches differ` };
    }
    if (share.length !== bucket.sums.length) {
      return { ok: false, contributions: total, reason: `the helper's share of bucket ${key} has ${share.length} entries, the leader's ${bucket.sums.length}` };
    }
    combined.set(key, removeOffset(round.kind, combineFieldShares(await deps.noisy(key, bucket.sums), share), bucket.count));
    sizes[key] = bucket.count;
  }
  if (combined.size === 0) {
    const why = Object.entries(helper.withheld).map(([k, r]) => `${k}: ${r}`).join('; ');
    return { ok: false, contributions: total, reason: `the helper released no bucket${why ? ` (${why})` : ''}` };
  }
  return { ok: true, contributions: sum(sizes), combined, buckets: sizes, helperSigma2: helper.sigma2 };
}

function sum(sizes: Record<string, number>): number {
  return Object.values(sizes).reduce((n, c) => n + c, 0);
}

/**
 * Closes a k-means round: abandons it when no bucket reaches the minimum batch or the
 * helper refuses, otherwise releases the combined noisy aggregate of the released
 * buckets and publishes the next model.
 *
 * @example
 * const outcome = await closeKmeansRound(record, deps);
 */
export async function closeKmeansRound(record: RoundRecord, deps: CloseDeps): Promise<CloseOutcome> {
  const { descriptor: round } = record;
  const batch = await agreeOnBatch(record, deps);
  const { contributions } = batch;
  if (!batch.ok) return { state: 'abandoned', contributions, reason: batch.reason };

  const bySlice = new Map<number, DecodedAggregate[]>();
  for (const [key, combined] of batch.combined) {
    const slice = Number(key.split(':')[0]);
    const list = bySlice.get(slice) ?? [];
    list.push(decodeKmeansAggregate(combined, round.k, round.d, round.encoding));
    bySlice.set(slice, list);
  }

  const released = { buckets: batch.buckets, helperSigma2: batch.helperSigma2 };
  if (record.k_candidates) return selectK(record, bySlice, contributions, deps, released);
  // Initialisation rounds run one candidate per slice: keep the one with the lowest
  // private inertia per device (slices have different sizes).
  const slices = [...bySlice.keys()].filter((s) => round.slices[s]).sort((a, b) => a - b);
  if (slices.length === 0) return { state: 'abandoned', contributions, reason: 'no slice had contributions' };
  const updates = slices.map((s) => updateCentroids(round.slices[s] as number[][], bySlice.get(s) as DecodedAggregate[], { minCount: minCountOf(record, contributions) }));
  const chosen = selectCandidate(updates.map(privateInertiaPerDevice));
  const slice = slices[chosen] as number;
  const update = updates[chosen] as CentroidUpdate;
  // The same post-processing as the simulator's training (aggregator/src/training): a
  // move the public noise level mostly explains is shrunk toward where the centroid was,
  // and a centroid kept for a too-small count is moved to split the largest cluster.
  // Both read only released values: no ε.
  const noise = bucketNoiseVariance({ ...record, helper_sigma2: batch.helperSigma2 }, contributions);
  const shrunk = shrinkMoves(round.slices[slice] as number[][], update, noise, round.groups);
  const centroids = reviveDead({ ...update, centroids: shrunk }, 0.5, deps.random ?? cryptoRandom);
  const version = await deps.publish(centroids, { ...update, centroids });
  const { counts, kept, inertia, silhouette } = update;
  return { state: 'released', contributions, ...released, result: { model_version: version, counts, kept, inertia, silhouette, slice } };
}

/**
 * Noise variance of one bucket's coordinate sums in standardised units²: both
 * aggregators' σ² (secure) or its devices' (local, about n / buckets of them), over the
 * coordinate scale².
 */
function bucketNoiseVariance(record: RoundRecord, contributions: number): number {
  const { descriptor: round } = record;
  const buckets = Math.max(1, round.groups * round.slices.length);
  const scale = encodingScales(round.encoding, round.d).coords;
  return countNoiseVariance(record, contributions / buckets, 1) / (scale * scale);
}

/**
 * A cluster whose noisy count is under this keeps its old centroid: a quarter of a fair
 * share of a slice's minimum (min_batch in each of its groups), and never less than four standard deviations of the count
 * noise actually added (both aggregators' in secure mode, every device's in local mode),
 * so a tiny noisy cluster cannot throw its centroid across the feature space.
 */
function minCountOf(record: RoundRecord, contributions: number): number {
  const { descriptor: round } = record;
  const noiseShares = round.mode === 'secure' ? 2 : contributions / Math.max(1, round.groups);
  return Math.max((round.min_batch * round.groups) / Math.max(1, round.k * 4), minCountFor(roundSigma2(record), round.encoding, round.groups, round.d, noiseShares));
}

/** k selection: each slice's candidate scored by private silhouette; the winner's live rows are published. */
async function selectK(
  record: RoundRecord,
  bySlice: Map<number, DecodedAggregate[]>,
  contributions: number,
  deps: CloseDeps,
  released: { buckets: Record<string, number>; helperSigma2: string | null },
): Promise<CloseOutcome> {
  const candidates: KCandidate[] = [];
  const updates = new Map<number, CentroidUpdate>();
  for (const [slice, groups] of bySlice) {
    const rows = record.descriptor.slices[slice];
    if (!rows) continue;
    const update = updateCentroids(rows, groups, { minCount: minCountOf(record, contributions) });
    updates.set(slice, update);
    candidates.push(scoreCandidate(slice, rows, update));
  }
  candidates.sort((a, b) => a.slice - b.slice);
  const best = chooseK(candidates);
  const update = best && updates.get(best.slice);
  const rows = best && record.descriptor.slices[best.slice];
  if (!best || !update || !rows) return { state: 'abandoned', contributions, reason: 'no k candidate had contributions' };
  const live = liveRows(rows);
  const pick = <T>(xs: readonly T[]): T[] => live.map((c) => xs[c] as T);
  const trimmed: CentroidUpdate = { ...update, centroids: trimToLive(update.centroids, rows), counts: pick(update.counts), kept: pick(update.kept) };
  const version = await deps.publish(trimmed.centroids, trimmed);
  return {
    state: 'released',
    contributions,
    ...released,
    result: { model_version: version, counts: trimmed.counts, kept: trimmed.kept, inertia: trimmed.inertia, silhouette: trimmed.silhouette, slice: best.slice, candidates },
  };
}
