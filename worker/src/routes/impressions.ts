/**
 * `POST /v1/impressions`: weekly randomized impression reports (shared/src/impressions.ts).
 * They are counted in SegmentTally instances of their own, one per (model version,
 * period), whose values index the campaigns of that model (last value: "none").
 */
import { impressionPeriods, parseImpressionBatch, type ImpressionReport } from '@edgeseg/shared';
import { Hono } from 'hono';
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

/** Checks every report against its model and period before anything is stored, so a refused batch changes no state. */
async function checkAgainstModels(env: Env, reports: ImpressionReport[]): Promise<void> {
  const open = impressionPeriods(Date.now()); // last week's: devices report a week once it is over
  for (const [i, r] of reports.entries()) {
    const manifest = await manifestOf(env, r.model_version);
    if (!manifest) throw new ProblemError('unknown-model', `reports[${i}].model_version: ${r.model_version} was never published`);
    const none = manifest.campaigns?.length ?? 0;
    if (r.value > none) throw new ProblemError('unknown-segment', `reports[${i}].value: model v${r.model_version} takes impression values 0..${none}`);
    if (!open.includes(r.period)) throw new ProblemError('stale-period', `reports[${i}].period: accepted periods are ${open.join(', ')}`);
  }
}

/** `POST /v1/impressions` → 202 `{ accepted, duplicates }`; 409 when every id was already accepted. */
export const impressionRoutes = new Hono<AppEnv>().post('/v1/impressions', async (c) => {
  const parsed = parseImpressionBatch(await readJsonBody(c.req.raw, REPORTS_MAX_BYTES));
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const { reports } = parsed.value;
  await checkAgainstModels(c.env, reports);
  const groups = new Map<string, ImpressionReport[]>();
  for (const r of reports) groups.set(`${r.model_version}:${r.period}`, [...(groups.get(`${r.model_version}:${r.period}`) ?? []), r]);
  let accepted = 0;
  let duplicates = 0;
  for (const group of groups.values()) {
    const first = group[0] as ImpressionReport;
    const result = await impressionTallyStub(c.env, first.model_version, first.period).addReports(group.map(({ id, value }) => ({ id, value })));
    accepted += result.accepted;
    duplicates += result.duplicates;
  }
  if (accepted === 0) throw new ProblemError('replayed', `all ${duplicates} report ids were already accepted`);
  return c.json({ accepted, duplicates }, 202);
});
