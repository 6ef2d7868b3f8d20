import { isoWeekPeriod, LIFECYCLE_STAGES, lifecycleEpsilon, openPeriods, parseReportBatch, periodsUpTo, type ModelManifest, type SegmentReport } from '@edgeseg/shared';
import { Hono } from 'hono';
import { batchAnswer, initialResults, markReplayed, type ItemRefusal } from '../batch-answer.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { manifestOf } from '../models.ts';
import { ProblemError } from '../problem.ts';

/** Reports batches are small: 100 reports of ~100 bytes fit well within this. */
export const REPORTS_MAX_BYTES = 32 * 1024;
/**
 * The tally Durable Object of one (segmentation, period). Models that differ only in
 * what rides along (campaigns, pinned keys) segment devices identically and report with
 * the same ε, so their reports share a tally: a campaign edit does not split a week's
 * counts or wipe the dashboard's history. The segmentation is named by a hash of k, the
 * centroids, the scaling and ε.
 *
 * @example
 * const tally = await tallyStub(env, manifest, '2026-W48');
 */
export async function tallyStub(env: Env, manifest: ModelManifest, period: string) {
  const key = await basisKey('s', manifest, () => [manifest.schema, manifest.k, manifest.centroids, manifest.scaling, manifest.epsilon.report]);
  return env.SEGMENT_TALLY.get(env.SEGMENT_TALLY.idFromName(`${key}:${period}`));
}

/**
 * The tally of one period's lifecycle reports (`kind: 'lifecycle'`): a SegmentTally over
 * the four stages, shared by every model with the same lifecycle rules and lifecycle ε
 * (so neither a retrained model nor a campaign edit splits the week), and named apart
 * from segment tallies, so the two kinds never mix.
 *
 * @example
 * const counts = await (await lifecycleTallyStub(env, manifest, '2026-W48')).counts(4);
 */
export async function lifecycleTallyStub(env: Env, manifest: ModelManifest, period: string) {
  const key = await basisKey('lifecycle', manifest, () => [manifest.lifecycle, lifecycleEpsilon(manifest)]);
  return env.SEGMENT_TALLY.get(env.SEGMENT_TALLY.idFromName(`${key}:${period}`));
}

/** Published versions never change: each isolate hashes a (prefix, version) once. */
const basisKeys = new Map<string, string>();

async function basisKey(prefix: string, m: ModelManifest, basis: () => unknown[]): Promise<string> {
  const cacheKey = `${prefix}:${m.version}`;
  const cached = basisKeys.get(cacheKey);
  if (cached) return cached;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(basis()))));
  const key = `${prefix}-${[...digest.subarray(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  basisKeys.set(cacheKey, key);
  return key;
}

/** The tally a report counts in: its segmentation's, or the lifecycle tally for `kind: 'lifecycle'`. */
function tallyOf(env: Env, manifest: ModelManifest, report: Pick<SegmentReport, 'kind' | 'period'>) {
  return report.kind === 'lifecycle' ? lifecycleTallyStub(env, manifest, report.period) : tallyStub(env, manifest, report.period);
}

/**
 * The periods reports are accepted for: the open ones, plus, on a local development
 * stack only (`DEV_BACKFILL_WEEKS`, set by `npm start` and never in wrangler.toml), that
 * many closed weeks that have not been released yet, so `npm run simulate -- --via-http`
 * can fill the dashboard's history without waiting weeks. A released week still refuses.
 */
function acceptedPeriods(env: Env, nowMs: number): string[] {
  const open = openPeriods(nowMs);
  const weeks = Number(env.DEV_BACKFILL_WEEKS ?? '0');
  if (!(weeks > 0)) return open;
  const past = periodsUpTo(isoWeekPeriod(nowMs - 7 * 86_400_000), Math.min(52, Math.floor(weeks)));
  return [...new Set([...open, ...past])];
}

/**
 * Why each report cannot be stored (null: it can), checked against its model and period
 * before anything is stored: a stale or unknown item is refused on its own and the rest
 * of its batch still counts. Also returns the manifest of each version the batch names.
 */
async function refusalsOf(env: Env, reports: SegmentReport[]): Promise<{ refusals: (ItemRefusal | null)[]; manifests: Map<number, ModelManifest> }> {
  const nowMs = Date.now();
  const open = acceptedPeriods(env, nowMs);
  const manifests = new Map<number, ModelManifest>();
  for (const v of new Set(reports.map((r) => r.model_version))) {
    const m = await manifestOf(env, v);
    if (m) manifests.set(v, m);
  }
  const refusals = reports.map((r): ItemRefusal | null => {
    const k = manifests.get(r.model_version)?.k;
    if (k === undefined) return { type: 'unknown-model', detail: `model_version: ${r.model_version} was never published` };
    if (r.kind === 'lifecycle' ? r.value >= LIFECYCLE_STAGES.length : r.value >= k) {
      return { type: 'unknown-segment', detail: r.kind === 'lifecycle' ? `value: lifecycle stages are 0..${LIFECYCLE_STAGES.length - 1} (${LIFECYCLE_STAGES.join(', ')})` : `value: model v${r.model_version} has segments 0..${k - 1}` };
    }
    if (!open.includes(r.period)) return { type: 'stale-period', detail: `period: accepted periods are ${open.join(', ')}` };
    return null;
  });
  // Backfilled weeks (local development only) may have been released already: a released
  // week refuses its items, checked before anything is stored.
  const reallyOpen = openPeriods(nowMs);
  const backfilled = reports.filter((r, i) => !refusals[i] && !reallyOpen.includes(r.period));
  for (const group of groupReports(backfilled).values()) {
    const first = group[0] as SegmentReport;
    if (!(await (await tallyOf(env, manifests.get(first.model_version) as ModelManifest, first)).isReleased())) continue;
    for (const r of group) refusals[reports.indexOf(r)] = { type: 'stale-period', detail: `period: ${first.period} was already released; it takes no more reports` };
  }
  return { refusals, manifests };
}

/** Reports by (kind, model version, period): each group goes to one tally in one call. */
function groupReports(reports: SegmentReport[]): Map<string, SegmentReport[]> {
  const groups = new Map<string, SegmentReport[]>();
  for (const r of reports) {
    const key = `${r.kind ?? 'segment'}:${r.model_version}:${r.period}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/**
 * `POST /v1/reports`: a batch of randomized segment and lifecycle reports, checked item by
 * item → 202 `{ accepted, duplicates, refused, results }` (batch-answer.ts); 422 when
 * nothing was accepted and some were refused, 409 when every id was already stored.
 */
export const reportRoutes = new Hono<AppEnv>().post('/v1/reports', async (c) => {
  const parsed = parseReportBatch(await readJsonBody(c.req.raw, REPORTS_MAX_BYTES));
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const { reports } = parsed.value;
  const { refusals, manifests } = await refusalsOf(c.env, reports);
  const results = initialResults(reports, refusals);
  for (const group of groupReports(reports.filter((_, i) => !refusals[i])).values()) {
    const first = group[0] as SegmentReport;
    // One call per tally, answered once its write committed (segment-tally.ts says why no batching).
    const stored = await (await tallyOf(c.env, manifests.get(first.model_version) as ModelManifest, first)).addReports(group.map(({ id, value }) => ({ id, value })));
    markReplayed(results, stored.replayedIds);
  }
  return c.json(batchAnswer(results), 202);
});
