/**
 * `POST /v1/impressions`: weekly randomized impression reports (shared/src/impressions.ts).
 * They are counted in SegmentTally instances of their own, one per (model version,
 * period), whose values index the campaigns of that model (last value: "none").
 */
import { impressionPeriods, parseImpressionBatch, type ImpressionReport } from '@edgeseg/shared';
import { Hono } from 'hono';
import { batchAnswer, initialResults, markReplayed, type ItemRefusal } from '../batch-answer.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { manifestOf } from '../models.ts';
import { ProblemError } from '../problem.ts';
// Same body shape as /v1/reports (a device sends one a week, a relay or the simulator up to 100), so the same cap.
import { REPORTS_MAX_BYTES } from './reports.ts';


/**
 * The impression tally of one (model version, period). Named apart from segment tallies
 * (`${version}:${period}`), so the two kinds of report never mix.
 *
 * @example
 * await impressionTallyStub(env, 7, '2026-W48').counts(3)
 */
export function impressionTallyStub(env: Env, modelVersion: number, period: string) {
  return env.SEGMENT_TALLY.get(env.SEGMENT_TALLY.idFromName(`impressions:${modelVersion}:${period}`));
}

/** Why each report cannot be stored (null: it can), checked against its model and period before anything is stored. */
async function refusalsOf(env: Env, reports: ImpressionReport[]): Promise<(ItemRefusal | null)[]> {
  const open = impressionPeriods(Date.now()); // last week's: devices report a week once it is over
  const refusals: (ItemRefusal | null)[] = [];
  for (const r of reports) {
    const manifest = await manifestOf(env, r.model_version);
    const none = manifest?.campaigns?.length ?? 0;
    if (!manifest) refusals.push({ type: 'unknown-model', detail: `model_version: ${r.model_version} was never published` });
    else if (r.value > none) refusals.push({ type: 'unknown-segment', detail: `value: model v${r.model_version} takes impression values 0..${none}` });
    else if (!open.includes(r.period)) refusals.push({ type: 'stale-period', detail: `period: accepted periods are ${open.join(', ')}` });
    else refusals.push(null);
  }
  return refusals;
}

/**
 * `POST /v1/impressions`, checked item by item → 202 `{ accepted, duplicates, refused, results }`
 * (batch-answer.ts); 422 when nothing was accepted and some were refused, 409 when every id was already stored.
 */
export const impressionRoutes = new Hono<AppEnv>().post('/v1/impressions', async (c) => {
  const parsed = parseImpressionBatch(await readJsonBody(c.req.raw, REPORTS_MAX_BYTES));
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const { reports } = parsed.value;
  const refusals = await refusalsOf(c.env, reports);
  const results = initialResults(reports, refusals);
  const groups = new Map<string, ImpressionReport[]>();
  for (const r of reports.filter((_, i) => !refusals[i])) groups.set(`${r.model_version}:${r.period}`, [...(groups.get(`${r.model_version}:${r.period}`) ?? []), r]);
  for (const group of groups.values()) {
    const first = group[0] as ImpressionReport;
    const stored = await impressionTallyStub(c.env, first.model_version, first.period).addReports(group.map(({ id, value }) => ({ id, value })));
    markReplayed(results, stored.replayedIds);
  }
  return c.json(batchAnswer(results), 202);
});
