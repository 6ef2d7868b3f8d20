/**
 * Campaign impressions, measured without learning who saw what.
 *
 * Protocol (device side, only with `measurement` consent): once per ISO week, every
 * consenting device sends exactly one report to `POST /v1/impressions`, whatever it saw,
 * so the fact of sending reveals nothing (not even "was in a targeted segment"). The
 * report's `value` is generalised randomized response (grr.ts) over
 * `campaigns.length + 1` values of the model it reports against: the index of one
 * campaign shown to it that week, chosen uniformly among those shown, or
 * `campaigns.length` ("none"). ε is `epsilon.impression` from the signed model
 * (default `epsilon.report`), spent once per week on top of the segment report.
 *
 * Server side: reports are tallied per (model version, period); once the period is
 * closed, `estimateImpressions` debiases each version's counts, sums them per campaign
 * id, and suppresses estimates under the k-threshold, like segment counts. The estimate
 * counts devices that saw the campaign (and reported it), not views.
 */
import type { Campaign } from './campaigns.ts';
import { grrDebias, grrEncode } from './grr.ts';
import type { ModelManifest } from './manifest.ts';
import { cryptoRandom, randomBelow, type RandomSource } from './random.ts';
import { parseReportBatch, type SegmentReport } from './reports.ts';
import type { Checked } from './validate.ts';

/**
 * One randomized impression report (same wire shape as a segment report): `value` is
 * already randomized, in [0, campaigns.length] of model `model_version`; `id` is a
 * random idempotency id, not a device id.
 */
export type ImpressionReport = SegmentReport;

/** Body of `POST /v1/impressions`: `{ reports: ImpressionReport[] }` (usually one; an offline device may send last week's too). */
export interface ImpressionBatch {
  reports: ImpressionReport[];
}

/** The exact field names an impression report may carry (the network audit checks these). */
export const IMPRESSION_FIELDS = ['id', 'model_version', 'period', 'value'] as const;

/**
 * ε one impression report spends: `epsilon.impression`, or `epsilon.report` when absent.
 *
 * @example
 * impressionEpsilon(manifest) // 2
 */
export function impressionEpsilon(manifest: Pick<ModelManifest, 'epsilon'>): number {
  return manifest.epsilon.impression ?? manifest.epsilon.report;
}

/**
 * The true (not yet randomized) value of this week's report: the index in `campaigns`
 * of one campaign whose id is in `shownIds`, chosen uniformly, or `campaigns.length`
 * when none of them was shown.
 *
 * @example
 * impressionTruth(manifest.campaigns ?? [], ['spring-drama']) // 0 if it is the first campaign
 */
export function impressionTruth(campaigns: readonly Campaign[], shownIds: readonly string[], random: RandomSource = cryptoRandom): number {
  // A loop, not flatMap: this runs on devices, and 2020 TV browsers (Chromium 68) have no flatMap.
  const shown: number[] = [];
  campaigns.forEach((c, i) => shownIds.includes(c.id) && shown.push(i));
  return shown.length ? (shown[randomBelow(shown.length, random)] as number) : campaigns.length;
}

/**
 * The randomized `value` to send for this week: GRR over `campaigns.length + 1` values
 * with the model's impression ε. Call it once per week whether or not anything was shown.
 *
 * @example
 * const value = impressionValue(manifest, shownThisWeek);
 * post('/v1/impressions', { reports: [{ id, model_version: manifest.version, period, value }] });
 */
export function impressionValue(manifest: Pick<ModelManifest, 'campaigns' | 'epsilon'>, shownIds: readonly string[], random: RandomSource = cryptoRandom): number {
  const campaigns = manifest.campaigns ?? [];
  return grrEncode(impressionTruth(campaigns, shownIds, random), campaigns.length + 1, impressionEpsilon(manifest), random);
}

/**
 * Checks an untrusted `POST /v1/impressions` body (shape as `/v1/reports`). The caller
 * checks each `value` against its model's `campaigns.length`.
 *
 * @example
 * const r = parseImpressionBatch(await request.json());
 */
export function parseImpressionBatch(v: unknown): Checked<ImpressionBatch> {
  const parsed = parseReportBatch(v);
  if (!parsed.ok) return parsed;
  const errors = parsed.value.reports.flatMap((r, i) => (r.kind === undefined ? [] : [`reports[${i}].kind: unknown field`]));
  return errors.length ? { ok: false, errors } : parsed;
}

/** The raw counts of one (model version, period) impression tally. */
export interface ImpressionTally {
  /** The model's campaign ids, in order; value `campaignIds.length` is "none". */
  campaignIds: readonly string[];
  /** Reports per value, length `campaignIds.length + 1`. */
  counts: readonly number[];
  epsilon: number;
}

/**
 * Impressions already estimated, per campaign of one model version: a secure impressions
 * counts round's noisy counts (a negative noisy count enters as 0) and the variance of
 * its noise.
 */
export interface ImpressionPart {
  campaignIds: readonly string[];
  estimate: readonly number[];
  variance: readonly number[];
}

/** One campaign's published line. `estimate` and `ci95` are null when suppressed. */
export interface ImpressionEstimate {
  id: string;
  estimate: number | null;
  ci95: [number, number] | null;
  suppressed: boolean;
}

const Z_95 = 1.959964;

/** A GRR tally's debiased estimates and their variances. */
function grrPart(t: ImpressionTally): ImpressionPart {
  const { estimate, stdError } = grrDebias(t.counts, t.epsilon);
  return { campaignIds: t.campaignIds, estimate, variance: stdError.map((e) => e * e) };
}

/**
 * Debiases each GRR tally, takes each secure part as it is, sums estimates and variances
 * per campaign id across model versions (and mechanisms, when a deployment changed
 * between them), and suppresses any campaign whose estimate is under `kThreshold`.
 *
 * @example
 * estimateImpressions([{ campaignIds: ['a'], counts: [400, 600], epsilon: 2 }], 50)
 * // [{ id: 'a', estimate: …, ci95: [lo, hi], suppressed: false }]
 */
export function estimateImpressions(tallies: readonly (ImpressionTally | ImpressionPart)[], kThreshold: number): ImpressionEstimate[] {
  const sums = new Map<string, { est: number; variance: number }>();
  for (const t of tallies) {
    const part = 'counts' in t ? grrPart(t) : t;
    part.campaignIds.forEach((id, i) => {
      const s = sums.get(id) ?? { est: 0, variance: 0 };
      sums.set(id, { est: s.est + (part.estimate[i] as number), variance: s.variance + (part.variance[i] as number) });
    });
  }
  return [...sums].map(([id, { est, variance }]) => {
    if (est < kThreshold) return { id, estimate: null, ci95: null, suppressed: true };
    const half = Z_95 * Math.sqrt(variance);
    return { id, estimate: Math.round(est), ci95: [Math.max(0, Math.round(est - half)), Math.round(est + half)], suppressed: false };
  });
}
