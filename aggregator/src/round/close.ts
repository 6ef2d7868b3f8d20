/**
 * Closing a k-means round on the leader, as a pure orchestration over injected I/O so
 * it is tested without workerd: both aggregators must agree on the batch (count and id
 * checksum per bucket) before either releases; each adds its own noise once; the
 * leader combines the two noisy shares, decodes them, and moves the centroids robustly.
 */
import { cryptoRandom, type RandomSource } from '@edgeseg/shared';
import { combineShares, decodeKmeansAggregate, encodingScales } from '@edgeseg/shared/secure';
import { checksumHex, type Bucket } from './bucket.ts';
import { updateCentroids, type CentroidUpdate, type DecodedAggregate } from './kmeans-update.ts';
import { minCountFor, privateInertiaPerDevice, reviveDead, selectCandidate, shrinkMoves } from '../training/schedule.ts';
import { chooseK, liveRows, scoreCandidate, trimToLive, type KCandidate } from './k-select.ts';
import { countNoiseVariance, roundSigma2, type RoundRecord, type RoundResult } from './record.ts';

/** What each aggregator checks before it releases: per bucket, the count and the id checksum. */
export type BatchSelector = Record<string, { count: number; checksum: string }>;

export interface CloseDeps {
  /** The leader's buckets, all shards merged (after every helper ciphertext was relayed). */
  gather(): Promise<Map<string, Bucket>>;
  /** The helper's noisy aggregate shares for the same batch, or why it refused. */
  helperAggregate(selector: BatchSelector): Promise<{ ok: true; shares: Record<string, Uint32Array> } | { ok: false; reason: string }>;
  /** The leader's noisy copy of a bucket's sums: noise drawn once per bucket and kept. */
  noisy(bucket: string, sums: Uint32Array): Promise<Uint32Array>;
  /** Data-independent randomness for reviving dead centroids (default `crypto.getRandomValues`). */
  random?: RandomSource;
  /** Signs and publishes the next model with these centroids; returns its version. */
  publish(centroids: number[][], update: CentroidUpdate): Promise<number>;
}

export type CloseOutcome =
  | { state: 'released'; contributions: number; result: RoundResult }
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

/** The batch both sides agreed on, combined: per bucket, the noisy total as signed integers. */
export type AgreedBatch =
  | { ok: true; contributions: number; combined: Map<string, Int32Array> }
  | { ok: false; contributions: number; reason: string };

/**
 * The part every kind of round shares at close: gather this aggregator's buckets, refuse
 * a batch under the minimum, have the helper release its noisy shares for exactly the
 * same batch (secure mode), and combine. In local mode the devices added the noise, so
 * the leader's sums are the release and no helper is asked.
 *
 * @example
 * const batch = await agreeOnBatch(record, deps);
 * if (batch.ok) for (const [key, total] of batch.combined) use(key, total);
 */
export async function agreeOnBatch(record: RoundRecord, deps: Omit<CloseDeps, 'publish'>): Promise<AgreedBatch> {
  const buckets = await deps.gather();
  const contributions = [...buckets.values()].reduce((n, b) => n + b.count, 0);
  if (contributions < record.min_devices) {
    return { ok: false, contributions, reason: `${contributions} contributions, under the minimum batch of ${record.min_devices}` };
  }
  const combined = new Map<string, Int32Array>();
  if (record.descriptor.mode === 'local') {
    for (const [key, bucket] of buckets) combined.set(key, new Int32Array(bucket.sums.buffer.slice(0)));
    return { ok: true, contributions, combined };
  }
  const helper = await deps.helperAggregate(selectorOf(buckets));
  if (!helper.ok) return { ok: false, contributions, reason: `helper refused to release: ${helper.reason}` };
  for (const [key, bucket] of buckets) {
    const helperShare = helper.shares[key];
    if (!helperShare) return { ok: false, contributions, reason: `helper released no share for bucket ${key}` };
    combined.set(key, combineShares(await deps.noisy(key, bucket.sums), helperShare));
  }
  return { ok: true, contributions, combined };
}

/**
 * Closes a k-means round: abandons it under the minimum batch size, otherwise releases
 * the combined noisy aggregate and publishes the next model.
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

  if (record.k_candidates) return selectK(record, bySlice, contributions, deps);
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
  const shrunk = shrinkMoves(round.slices[slice] as number[][], update, bucketNoiseVariance(record, contributions), round.groups);
  const centroids = reviveDead({ ...update, centroids: shrunk }, 0.5, deps.random ?? cryptoRandom);
  const version = await deps.publish(centroids, { ...update, centroids });
  const { counts, kept, inertia, silhouette } = update;
  return { state: 'released', contributions, result: { model_version: version, counts, kept, inertia, silhouette, slice } };
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
 * share of the minimum batch, and never less than four standard deviations of the count
 * noise actually added (both aggregators' in secure mode, every device's in local mode),
 * so a tiny noisy cluster cannot throw its centroid across the feature space.
 */
function minCountOf(record: RoundRecord, contributions: number): number {
  const { descriptor: round } = record;
  const noiseShares = round.mode === 'secure' ? 2 : contributions / Math.max(1, round.groups);
  return Math.max(record.min_devices / Math.max(1, round.k * 4), minCountFor(roundSigma2(record), round.encoding, round.groups, round.d, noiseShares));
}

/** k selection: each slice's candidate scored by private silhouette; the winner's live rows are published. */
async function selectK(record: RoundRecord, bySlice: Map<number, DecodedAggregate[]>, contributions: number, deps: CloseDeps): Promise<CloseOutcome> {
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
    result: { model_version: version, counts: trimmed.counts, kept: trimmed.kept, inertia: trimmed.inertia, silhouette: trimmed.silhouette, slice: best.slice, candidates },
  };
}
