import { openOnHelper, publicRound, TRAINING_GROUPS, type HelperOpening, type RoundRecord, type TrainingSettings } from '@edgeseg/aggregator';
import { COUNTS_MEASURES, countsCategories, countsCloseMs, countsPeriod, impressionEpsilon, isIntIn, isNumberIn, isObject, isPeriod, lifecycleEpsilon, MAX_SEGMENTS, measureOf, unknownKeys, type CountsMeasure, type RoundDescriptor } from '@edgeseg/shared';
import { vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { requireRole } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { coordinator } from '../coordinator.ts';
import { countsEpsilonOf } from '../counts-epsilon.ts';
import { aggregatorHpke, helperHpkeConfig } from '../hpke-key.ts';
import { currentModel, manifestOf } from '../models.ts';
import { perDevice, type PerDevice } from '../per-device.ts';
import { ProblemError, ProblemWithMembers } from '../problem.ts';
import { tallyReleases } from '../record-tally-release.ts';
import { TALLY_LEDGER_NOTE } from '../tally-ledger.ts';
import { maybeScheduleTraining } from '../training.ts';
import { countsRoundId, DEFAULT_ENCODING, planCountsRound, planRound } from '../round-plan.ts';


const ADMIN_ROUND_MAX_BYTES = 4 * 1024;

/**
 * The error an admin (or the log) sees when the helper did not accept a round: the
 * helper's own rule and detail for a policy refusal (422) or a conflicting round (409).
 */
function helperRefusal(opened: Extract<HelperOpening, { ok: false }>): ProblemError {
  const detail = `the helper refused: ${opened.detail}`;
  if (opened.status === 0 || opened.status >= 500) return new ProblemError('helper-unavailable', `the helper could not open the round: ${opened.detail}`);
  if (opened.status === 401 || opened.status === 403) return new ProblemError('misconfigured', `the helper does not accept this leader's token: ${opened.detail}`);
  if (opened.problem === 'round-conflict') return new ProblemWithMembers('round-conflict', detail, undefined, { rule: opened.rule ?? 'round-conflict' });
  return new ProblemWithMembers('round-refused', detail, undefined, { rule: opened.rule ?? 'unknown' });
}

/**
 * Opens a round on this leader. A secure round is first offered to the helper, which
 * checks it against its own policy and σ²; if the helper refuses, nothing is stored here
 * and the refusal (with the helper's `rule`) is thrown. Idempotent for the same round id.
 *
 * @example
 * const stored = await openRound(env, planRound(input));
 */
export async function openRound(env: Env, record: RoundRecord): Promise<RoundRecord> {
  const existing = (await coordinator(env).get(record.descriptor.round_id)) as RoundRecord | null;
  if (existing) return existing;
  let stored = record;
  if (record.descriptor.mode === 'secure') {
    if (!env.HELPER_URL) throw new ProblemError('misconfigured', 'a secure round needs HELPER_URL');
    // The round's verify key goes to the helper only (never into the descriptor or a public answer).
    const opened = await openOnHelper({ url: env.HELPER_URL, token: env.LEADER_TOKEN }, record.descriptor, record.sigma2, record.verify_key);
    if (!opened.ok) throw helperRefusal(opened);
    stored = { ...record, helper_sigma2: opened.sigma2 };
  }
  return (await coordinator(env).open(stored)) as RoundRecord;
}

/**
 * The ledger's `per_device`: what one device can spend under the current model (its
 * measurement mode and GRR ε), this leader's COUNTS_EPSILON and training schedule, and the
 * device budget; from configuration only (worker/src/per-device.ts).
 */
async function perDeviceNow(env: Env): Promise<PerDevice> {
  const [model, schedule] = await Promise.all([currentModel(env), coordinator(env).trainingSchedule() as Promise<{ settings: TrainingSettings }>]);
  const manifest = await manifestOf(env, model.version);
  if (!manifest) throw new ProblemError('misconfigured', 'no current model');
  const { round } = schedule.settings;
  return perDevice({
    measurement: manifest.measurement === 'secure' && manifest.aggregators ? 'secure' : 'grr',
    counts: { epsilon: countsEpsilonOf(env.COUNTS_EPSILON), delta: COUNTS_DELTA },
    grr: { report: manifest.epsilon.report, lifecycle: lifecycleEpsilon(manifest), impression: impressionEpsilon(manifest) },
    training: { epsilon: round.epsilon, delta: round.delta },
  });
}

/** δ of the weekly counts rounds. */
const COUNTS_DELTA = 1e-9;

/** Counts rounds the helper refused, per isolate: why, and not offered again before `until` (ms), so device polls do not hammer it. */
const refusedCountsRounds = new Map<string, { until: number; why: string }>();
const REFUSED_RETRY_MS = 60_000;

/**
 * The counts round of `measure` that devices report in now for the current model (this
 * week's segments or stages, last week's impressions), opened on first demand when the
 * signed model asks devices to count securely; otherwise why there is none (the model
 * counts by GRR, has nothing to count, the round is closed, or the helper refused it).
 */
async function currentCountsRound(env: Env, measure: CountsMeasure): Promise<RoundDescriptor | { none: string }> {
  const manifest = await manifestOf(env, (await currentModel(env)).version);
  if (!manifest || manifest.measurement !== 'secure' || !manifest.aggregators) return { none: 'this deployment counts by randomized reports; no counts round is open' };
  if (countsCategories(measure, manifest).length === 0) return { none: `model v${manifest.version} has no campaigns: there are no impressions to count` };
  const nowMs = Date.now();
  const period = countsPeriod(measure, nowMs);
  const roundId = countsRoundId(period, manifest.version, measure);
  const existing = await coordinator(env).get(roundId);
  if (existing) return existing.state === 'open' ? existing.descriptor : { none: `the counts round ${roundId} is ${existing.state}` };
  const refused = refusedCountsRounds.get(roundId);
  if (refused && refused.until > nowMs) return { none: refused.why };
  const record = planCountsRound({
    manifest,
    measure,
    period,
    nowS: Math.floor(nowMs / 1000),
    minBatch: Number(env.MIN_BATCH ?? '100'),
    epsilon: countsEpsilonOf(env.COUNTS_EPSILON)[measure],
    // Impressions are summed per campaign across model versions before the k-threshold
    // applies (routes/campaigns.ts), so their round keeps every line.
    kThreshold: measure === 'impressions' ? 0 : Number(env.K_THRESHOLD ?? '50'),
    delta: COUNTS_DELTA,
    shards: Number(env.ROUND_SHARDS ?? '8'),
    hpke: manifest.aggregators,
  });
  try {
    return (await openRound(env, record)).descriptor;
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    // No round is stored: devices hear "no open round" until the helper accepts one.
    const why = `the counts round ${roundId} was not opened: ${err.message}`;
    console.warn(why);
    refusedCountsRounds.set(roundId, { until: nowMs + REFUSED_RETRY_MS, why });
    return { none: why };
  }
}

/**
 * Device and public round routes on the leader: `GET /v1/rounds/current`,
 * `GET /v1/rounds`, `GET /v1/privacy-ledger`, and the admin `POST /v1/admin/rounds`.
 */
export const roundRoutes: Hono<AppEnv> = new Hono<AppEnv>()
  .get('/v1/rounds/current', async (c) => {
    const kind = c.req.query('kind') ?? 'kmeans';
    if (kind !== 'kmeans' && kind !== 'counts') throw new ProblemError('invalid-body', "kind: must be 'kmeans' or 'counts'");
    const measure = c.req.query('measure');
    if (measure !== undefined && (kind !== 'counts' || !(COUNTS_MEASURES as readonly string[]).includes(measure))) {
      throw new ProblemError('invalid-body', `measure: a counts round counts one of ${COUNTS_MEASURES.join(', ')} (kind=counts only)`);
    }
    if (kind === 'counts') {
      const counts = await currentCountsRound(c.env, (measure ?? 'segment') as CountsMeasure);
      if ('none' in counts) throw new ProblemError('no-open-round', counts.none);
      c.header('cache-control', 'no-store');
      return c.json(counts);
    }
    let round = (await coordinator(c.env).current(Date.now() / 1000, 'kmeans')) as RoundDescriptor | null;
    // No k-means round open: the retraining schedule may be due (checked at most every 10 s per isolate).
    round ??= (await maybeScheduleTraining(c.env))?.descriptor ?? null;
    if (!round) throw new ProblemError('no-open-round', 'no round is open; try again after the next model');
    c.header('cache-control', 'no-store');
    return c.json(round);
  })
  .get('/v1/rounds', async (c) => c.json({ rounds: await coordinator(c.env).list() }))
  .get('/v1/privacy-ledger', async (c) => {
    const [rounds, per_device, tally_releases] = await Promise.all([coordinator(c.env).list(), perDeviceNow(c.env), tallyReleases(c.env)]);
    const releases = rounds.filter((r) => r.state === 'released');
    return c.json({
      per_device,
      releases: releases.map((r) => ({
        round_id: r.round_id,
        kind: r.kind,
        measure: r.measure,
        period: r.period,
        mode: r.mode,
        released_at: r.closed_at,
        epsilon: r.epsilon,
        delta: r.delta,
        sigma2: r.sigma2,
        mechanism: r.mechanism,
        contributions: r.contributions,
        buckets: r.buckets ?? {},
      })),
      // Apart from `releases` (rounds, which the helper's ledger lists too and the dashboard compares round by round).
      tally_releases,
      note: 'Each device is in at most one bucket of a round (disjoint slices and groups), so a round costs each device its ε once; rounds compose across releases. per_device: the most ε one device can have spent in any 30 days (per purpose and in total) and in any 365 days in total, from this deployment\'s configuration and the device budget (2 + 2 per 30 days, 11 per 365 days), totals composed under zCDP at δ = 1e-9; GRR reports are counted as if every value changed every week. ' + TALLY_LEDGER_NOTE,
    });
  })
  .post('/v1/admin/rounds', requireRole('admin'), async (c) => {
    const body = await readJsonBody(c.req.raw, ADMIN_ROUND_MAX_BYTES);
    if (!isObject(body)) throw new ProblemError('invalid-body', 'body: must be a JSON object');
    const errors = unknownKeys(body, ['duration_s', 'min_batch', 'epsilon', 'delta', 'groups', 'slices', 'mode', 'k', 'k_candidates']).map((k) => `${k}: unknown field`);
    // One group by default, as the training schedule: every secure report's proof bounds what it adds (README, Robustness).
    const { duration_s = 3600, min_batch = 100, epsilon = 1, delta = 1e-9, groups = TRAINING_GROUPS, mode = 'secure', k, k_candidates } = body as Record<string, unknown>;
    let { slices = 1 } = body as Record<string, unknown>;
    if (k !== undefined && !isIntIn(k, 2, MAX_SEGMENTS)) errors.push(`k: must be an integer in [2, ${MAX_SEGMENTS}]`);
    if (k_candidates !== undefined) {
      if (!Array.isArray(k_candidates) || k_candidates.length < 2 || k_candidates.length > 16 || !k_candidates.every((x) => isIntIn(x, 2, MAX_SEGMENTS)) || new Set(k_candidates).size !== k_candidates.length) {
        errors.push(`k_candidates: must be 2 to 16 distinct integers in [2, ${MAX_SEGMENTS}]`);
      } else if (k !== undefined || (body as Record<string, unknown>).slices !== undefined) errors.push('k_candidates: one slice per candidate; do not also send k or slices');
      else slices = k_candidates.length;
    }
    if (mode !== 'secure' && mode !== 'local') errors.push("mode: must be 'secure' or 'local'");
    if (!isIntIn(duration_s, 10, 30 * 86_400)) errors.push('duration_s: must be an integer in [10, 2592000]');
    if (!isIntIn(min_batch, 1, 10_000_000)) errors.push('min_batch: must be an integer in [1, 10000000] (contributions per released bucket)');
    if (!isNumberIn(epsilon, 0.01, 20)) errors.push('epsilon: must be in [0.01, 20]');
    if (!isNumberIn(delta, 1e-15, 1e-3)) errors.push('delta: must be in [1e-15, 1e-3]');
    if (!isIntIn(groups, 1, 64)) errors.push('groups: must be an integer in [1, 64]');
    if (!isIntIn(slices, 1, 16)) errors.push('slices: must be an integer in [1, 16]');
    if (errors.length) throw new ProblemError('invalid-body', errors[0], errors);

    const model = await currentModel(c.env);
    const manifest = await manifestOf(c.env, model.version);
    if (!manifest) throw new ProblemError('misconfigured', 'no current model');
    const local = mode === 'local';
    const [leader, helper] = await Promise.all([aggregatorHpke(c.env), local ? undefined : helperHpkeConfig(c.env)]);
    const record = planRound({
      manifest,
      nowS: Math.floor(Date.now() / 1000),
      durationS: duration_s as number,
      minBatch: min_batch as number,
      epsilon: epsilon as number,
      delta: delta as number,
      groups: groups as number,
      slices: slices as number,
      shards: Number(c.env.ROUND_SHARDS ?? '8'),
      encoding: DEFAULT_ENCODING,
      hpke: { leader: leader.config, ...(helper ? { helper } : {}) },
      mode: local ? 'local' : 'secure',
      ...(k !== undefined ? { k: k as number } : {}),
      ...(Array.isArray(k_candidates) ? { kCandidates: k_candidates as number[] } : {}),
    });
    const stored = await openRound(c.env, record);
    return c.json({ round: stored.descriptor satisfies RoundDescriptor, vector_length: vectorLength('kmeans', stored.descriptor.k, stored.descriptor.d), public: publicRound(stored) }, 201);
  })
  .post('/v1/admin/rounds/:id/close', requireRole('admin'), async (c) => {
    const existing = (await coordinator(c.env).get(c.req.param('id'))) as RoundRecord | null;
    const counted = existing?.descriptor.kind === 'counts' ? existing.descriptor : undefined;
    // A counts round releases its week's counts: never while that week (or, for
    // impressions, the week devices report it in) can still change.
    if (counted?.period && isPeriod(counted.period) && Date.now() < countsCloseMs(measureOf(counted), counted.period)) {
      throw new ProblemError('period-open', `round ${counted.round_id} counts ${counted.period}, which devices can still report; it closes by itself afterwards`);
    }
    const r = (await coordinator(c.env).closeNow(c.req.param('id'))) as RoundRecord | null;
    if (!r) throw new ProblemError('not-found', `no round ${c.req.param('id')}`);
    return c.json({ round: publicRound(r) }, 202);
  });
