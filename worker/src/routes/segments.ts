import { lifecycleRelease, type LifecycleRelease, type SegmentCount, type TallySummary } from '@edgeseg/aggregator';
import { isIntIn, isPeriod, isReleasable, latestReleasablePeriod, LIFECYCLE_STAGES, lifecycleEpsilon, periodStart, periodsUpTo, REPORT_GRACE_MS, type ModelManifest, type Period } from '@edgeseg/shared';
import { Hono, type Context } from 'hono';
import { requireRole } from '../auth.ts';
import type { AppEnv, Env } from '../env.ts';
import { currentModel, manifestOf } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { recordTallyReleases } from '../record-tally-release.ts';
import { countsEpsilonOf } from '../counts-epsilon.ts';
import { countsSummary } from '../counts-release.ts';
import { countsRoundId } from '../round-plan.ts';
import { lifecycleEntry, segmentsEntry } from '../tally-ledger.ts';
import { lifecycleTallyStub, tallyStub } from './reports.ts';
import { coordinator } from '../coordinator.ts';

const HISTORY_WEEKS = 12;
const WEEK_MS = 7 * 86_400_000;

/** One released period as the API answers it: segment counts, and lifecycle shares. */
export interface PeriodRelease extends TallySummary {
  period: string;
  model_version: number;
  lifecycle: LifecycleRelease;
}

/**
 * The period's lifecycle shares from the weekly GRR lifecycle reports of devices on
 * models with this model's lifecycle rules and ε. Released once, like segments.
 */
async function grrLifecycleOf(env: Env, manifest: ModelManifest, period: Period, kThreshold: number): Promise<LifecycleRelease> {
  const tally = await lifecycleTallyStub(env, manifest, period);
  const release = lifecycleRelease((await tally.release({ k: LIFECYCLE_STAGES.length, epsilon: lifecycleEpsilon(manifest), kThreshold, labels: LIFECYCLE_STAGES })) as TallySummary);
  await recordTallyReleases(env, [lifecycleEntry(manifest.version, period, release, nowS())]);
  return release;
}

/** Every stage suppressed: a week whose secure lifecycle round has not released (or was abandoned). */
function suppressedLifecycle(epsilon: number, kThreshold: number): LifecycleRelease {
  return { reports: 0, mechanism: 'secure-counts', epsilon, kThreshold, stages: LIFECYCLE_STAGES.map((stage) => ({ stage, count: null, ci95: null, share: null, share_ci95: null, suppressed: true })) };
}

const nowS = (): number => Math.floor(Date.now() / 1000);

async function modelFor(c: Context<AppEnv>): Promise<ModelManifest> {
  const param = c.req.query('model_version');
  const version = param === undefined ? (await currentModel(c.env)).version : Number(param);
  if (!isIntIn(version, 1, Number.MAX_SAFE_INTEGER)) throw new ProblemError('invalid-body', 'model_version: must be a positive integer');
  const manifest = await manifestOf(c.env, version);
  if (!manifest) throw new ProblemError('not-found', `model v${version} was never published`);
  return manifest;
}

/**
 * The release of a closed period, by the mechanism the model's devices used: the GRR
 * reports' releases (computed once by their SegmentTally, then stored), or the secure
 * segment and lifecycle counts rounds' (noise drawn once at each close). A segment counts
 * round that has not closed yet answers `null` (`wait`), or, when `wait` is false, a fully
 * suppressed line, as does a period without any round or with an abandoned one.
 */
export async function releaseOf(env: Env, manifest: ModelManifest, period: Period, wait: boolean): Promise<PeriodRelease | null> {
  const kThreshold = Number(env.K_THRESHOLD ?? '50');
  if (manifest.measurement === 'secure') {
    const segmentsRound = countsRoundId(period, manifest.version);
    const [summary, stages] = await Promise.all([countsSummary(env, segmentsRound), countsSummary(env, countsRoundId(period, manifest.version, 'lifecycle'))]);
    if (!summary && wait && (await coordinator(env).get(segmentsRound))) return null;
    const epsilon = countsEpsilonOf(env.COUNTS_EPSILON);
    const lifecycle = stages ? lifecycleRelease(stages) : suppressedLifecycle(epsilon.lifecycle, kThreshold);
    if (summary) return { period, model_version: manifest.version, ...summary, lifecycle };
    const segments = manifest.labels.map((label, segment): SegmentCount => ({ segment, label, count: null, ci95: null, suppressed: true }));
    return { period, model_version: manifest.version, reports: 0, mechanism: 'secure-counts', epsilon: epsilon.segment, kThreshold, segments, lifecycle };
  }
  const summary = (await (await tallyStub(env, manifest, period)).release({ k: manifest.k, epsilon: manifest.epsilon.report, kThreshold, labels: manifest.labels })) as TallySummary;
  await recordTallyReleases(env, [segmentsEntry(manifest.version, period, summary, nowS())]);
  return { period, model_version: manifest.version, ...summary, lifecycle: await grrLifecycleOf(env, manifest, period, kThreshold) };
}

const CSV_HEADER = 'period,model_version,segment,label,count,ci95_low,ci95_high,suppressed,mechanism,epsilon';

function csvCell(v: string | number | boolean | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRows(r: PeriodRelease): string[] {
  return r.segments.map((s: SegmentCount) => [r.period, r.model_version, s.segment, s.label, s.count, s.ci95?.[0] ?? null, s.ci95?.[1] ?? null, s.suppressed, r.mechanism, r.epsilon].map(csvCell).join(','));
}

function wantsCsv(c: Context<AppEnv>): boolean {
  return /\btext\/csv\b/.test(c.req.header('accept') ?? '');
}

/**
 * Marketer routes: `GET /v1/segments?period=&model_version=` (one closed period; the
 * newest releasable one by default) and `GET /v1/segments/history` (the last 12 closed
 * periods), both as JSON or, with `Accept: text/csv`, CSV. An open period is never
 * released: its counts would change and differencing two answers could expose a device.
 */
export const segmentRoutes: Hono<AppEnv> = new Hono<AppEnv>()
  .use('/v1/segments', requireRole('marketer', 'admin'))
  .use('/v1/segments/*', requireRole('marketer', 'admin'))
  .get('/v1/segments', async (c) => {
    const now = Date.now();
    const period = c.req.query('period') ?? latestReleasablePeriod(now);
    if (!isPeriod(period)) throw new ProblemError('invalid-body', 'period: must be an ISO week such as 2026-W48');
    if (!isReleasable(period, now)) {
      throw new ProblemError('period-open', `${period} is released from ${new Date(periodStart(period) + WEEK_MS + REPORT_GRACE_MS).toISOString()}`);
    }
    const release = await releaseOf(c.env, await modelFor(c), period, true);
    if (!release) throw new ProblemError('period-open', `${period} is counted by a secure counts round that has not closed yet; try again shortly`);
    c.header('cache-control', 'private, no-store');
    if (wantsCsv(c)) return c.body([CSV_HEADER, ...csvRows(release)].join('\n') + '\n', 200, { 'content-type': 'text/csv; charset=utf-8' });
    return c.json(release);
  })
  .get('/v1/segments/history', async (c) => {
    const manifest = await modelFor(c);
    const periods = periodsUpTo(latestReleasablePeriod(Date.now()), HISTORY_WEEKS);
    const releases = (await Promise.all(periods.map((p) => releaseOf(c.env, manifest, p, false)))) as PeriodRelease[];
    c.header('cache-control', 'private, no-store');
    if (wantsCsv(c)) return c.body([CSV_HEADER, ...releases.flatMap(csvRows)].join('\n') + '\n', 200, { 'content-type': 'text/csv; charset=utf-8' });
    return c.json({ model_version: manifest.version, periods: releases });
  })
  .get('/v1/admin/periods/:period', requireRole('admin'), async (c) => {
    const period = c.req.param('period');
    if (!isPeriod(period)) throw new ProblemError('invalid-body', 'period: must be an ISO week such as 2026-W48');
    const manifest = await modelFor(c);
    // Ingestion status for operators: how many reports arrived, never what they say.
    const [reports, lifecycleReports] = await Promise.all([(await tallyStub(c.env, manifest, period)).reportCount(), (await lifecycleTallyStub(c.env, manifest, period)).reportCount()]);
    return c.json({ period, model_version: manifest.version, reports, lifecycle_reports: lifecycleReports, releasable: isReleasable(period, Date.now()) });
  });
