/**
 * The weekly counts a device under measurement takes part in (DESIGN.md §5), one secure
 * counts round each: its segment, its lifecycle stage and, for a finished week, one
 * campaign it was shown. What each counts under a signed model, which week a device
 * reports now, and when that week's round may close. Leader, helper-facing planner and
 * SDK all read these, so they agree on every round's shape.
 */
import { LIFECYCLE_STAGES } from './lifecycle.ts';
import type { ModelManifest } from './manifest.ts';
import { isoWeekPeriod, periodStart, REPORT_GRACE_MS, type Period } from './period.ts';
import type { CountsMeasure, RoundDescriptor } from './rounds.ts';

const WEEK_MS = 7 * 86_400_000;

/**
 * What a counts round counts: its `measure`, or `segment` when absent.
 *
 * @example
 * measureOf(round) // 'lifecycle'
 */
export function measureOf(round: Pick<RoundDescriptor, 'measure'>): CountsMeasure {
  return round.measure ?? 'segment';
}

/**
 * The categories a counts round of `measure` counts under `manifest`, in entry order
 * (the round's k is their number; its last entry, k, is "none"): the segment labels,
 * the lifecycle stages, or the campaign ids (empty when the model has no campaign: then
 * there is nothing to count).
 *
 * @example
 * countsCategories('lifecycle', manifest) // ['new', 'active', 'at_risk', 'lapsed']
 */
export function countsCategories(measure: CountsMeasure, manifest: Pick<ModelManifest, 'labels' | 'campaigns'>): string[] {
  if (measure === 'lifecycle') return [...LIFECYCLE_STAGES];
  if (measure === 'impressions') return (manifest.campaigns ?? []).map((c) => c.id);
  return [...manifest.labels];
}

/**
 * The ISO week a device reports `measure` for at `nowMs`: the current week for segments
 * and lifecycle stages, the week before for impressions (what was shown is known only
 * once the week is over).
 *
 * @example
 * countsPeriod('impressions', Date.UTC(2026, 11, 3)) // '2026-W48'
 */
export function countsPeriod(measure: CountsMeasure, nowMs: number): Period {
  return isoWeekPeriod(measure === 'impressions' ? nowMs - WEEK_MS : nowMs);
}

/**
 * When the counts round of `measure` for `period` closes (epoch ms): once the week it is
 * reported in, and the grace period after it, are over, so a week that can still change
 * is never released. Impressions are reported during the week after theirs.
 *
 * @example
 * countsCloseMs('segment', '2026-W48') // Monday of 2026-W49 + 1 day
 */
export function countsCloseMs(measure: CountsMeasure, period: Period): number {
  return periodStart(period) + (measure === 'impressions' ? 2 : 1) * WEEK_MS + REPORT_GRACE_MS;
}
