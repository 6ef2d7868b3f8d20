/**
 * Training health and the retraining schedule on the leader: the drift score from what
 * was already released (the last training's centroid move and the latest two periods'
 * share move; no new ε), and opening a retraining round when it is due. Devices polling
 * `GET /v1/rounds/current` drive the schedule, so no extra alarm or cron is needed.
 */
import { centroidShift, shareShift, trainingDue, type KCandidate, type PublicRound, type RoundRecord, type TrainingSettings } from '@edgeseg/aggregator';
import { latestReleasablePeriod, periodsUpTo } from '@edgeseg/shared';
import type { Env } from './env.ts';
import { aggregatorHpke, helperHpkeConfig } from './hpke-key.ts';
import { currentModel, manifestOf } from './models.ts';
import { DEFAULT_ENCODING, planRound } from './round-plan.ts';
import { coordinator } from './coordinator.ts';
import { openRound } from './routes/rounds.ts';
import { releaseOf } from './routes/segments.ts';

/** `GET /v1/training`: what the dashboard shows about the model's health. */
export interface TrainingReport {
  model_version: number;
  k: number;
  /** The last k-selection round's candidates (private silhouette by k), or empty. */
  k_candidates: KCandidate[];
  drift: { score: number; threshold: number; alert: boolean; centroid_shift: number | null; share_shift: number | null; checked_at: number } | null;
  settings: TrainingSettings;
  last_trained_at: number | null;
  next_retrain_at: number | null;
  /** Why a retraining round would or would not open now. */
  status: string;
}

const released = (rounds: PublicRound[]) => rounds.filter((r) => r.kind === 'kmeans' && r.state === 'released' && r.result);

/**
 * Computes the training report: drift from released figures, and whether retraining is due.
 *
 * @example
 * const report = await trainingReport(env, Math.floor(Date.now() / 1000));
 */
export async function trainingReport(env: Env, nowS: number): Promise<TrainingReport> {
  const c = coordinator(env);
  const [{ settings, set_at }, rounds, model] = await Promise.all([c.trainingSchedule(), c.list() as Promise<PublicRound[]>, currentModel(env)]);
  const manifest = await manifestOf(env, model.version);
  const trained = released(rounds); // newest first
  const last = trained[0];
  let moved: number | null = null;
  if (last?.result) {
    const [before, after] = await Promise.all([manifestOf(env, last.model_version), manifestOf(env, last.result.model_version)]);
    if (before && after) moved = centroidShift(before.centroids, after.centroids);
  }
  let shares: number | null = null;
  if (manifest) {
    const [newer, older] = periodsUpTo(latestReleasablePeriod(nowS * 1000), 2);
    const [a, b] = await Promise.all([older, newer].map((p) => (p ? releaseOf(env, manifest, p, false) : null)));
    if (a && b) shares = shareShift(a.segments.map((s) => s.count), b.segments.map((s) => s.count));
  }
  const parts = [moved, shares].filter((x): x is number => x !== null);
  const score = parts.length ? parts.reduce((x, y) => x + y, 0) : null;
  const roundOpen = rounds.some((r) => r.kind === 'kmeans' && (r.state === 'open' || r.state === 'closing'));
  const due = trainingDue({ nowS, settings, lastTrainedAt: last?.closed_at ?? null, scheduledFrom: set_at, drift: score, roundOpen });
  const selection = trained.find((r) => r.result?.candidates);
  return {
    model_version: model.version,
    k: manifest?.k ?? 0,
    k_candidates: selection?.result?.candidates ?? [],
    drift: score === null ? null : { score, threshold: settings.drift_threshold, alert: score >= settings.drift_threshold, centroid_shift: moved, share_shift: shares, checked_at: nowS },
    settings,
    last_trained_at: last?.closed_at ?? null,
    next_retrain_at: due.due ? nowS : due.next_at,
    status: due.reason,
  };
}

/** Isolates check the schedule at most this often: device polls must stay cheap. */
const CHECK_EVERY_MS = 10_000;
let nextCheckAt = 0;

/**
 * Opens a retraining round (refining the current model with the schedule's round
 * settings) when drift or the cadence says so. Returns the opened round, or null (also
 * when the helper refuses it: nothing is stored then).
 *
 * @example
 * const opened = await maybeScheduleTraining(env);
 */
export async function maybeScheduleTraining(env: Env, nowMs = Date.now()): Promise<RoundRecord | null> {
  if (nowMs < nextCheckAt) return null;
  nextCheckAt = nowMs + CHECK_EVERY_MS;
  const nowS = Math.floor(nowMs / 1000);
  const report = await trainingReport(env, nowS);
  if (report.next_retrain_at === null || report.next_retrain_at > nowS || report.status.startsWith('a k-means')) return null;
  const manifest = await manifestOf(env, report.model_version);
  if (!manifest) return null;
  const r = report.settings.round;
  const [leader, helper] = await Promise.all([aggregatorHpke(env), helperHpkeConfig(env)]);
  const record = planRound({
    manifest,
    nowS,
    durationS: r.duration_s,
    minBatch: r.min_batch,
    epsilon: r.epsilon,
    delta: r.delta,
    groups: r.groups,
    slices: r.slices,
    shards: Number(env.ROUND_SHARDS ?? '8'),
    encoding: DEFAULT_ENCODING,
    hpke: { leader: leader.config, helper },
  });
  try {
    return await openRound(env, record);
  } catch (err) {
    // The helper refused (or could not be asked): no round is stored, devices hear "no
    // open round", and the schedule tries again on a later poll.
    console.warn(`scheduled training round not opened: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

