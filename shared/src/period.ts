/**
 * Reporting periods are ISO weeks ("2026-W48"), computed in UTC so that every device
 * and the server agree on the same boundaries.
 */

/** An ISO week label such as `2026-W48`. */
export type Period = string;

const PERIOD_PATTERN = /^(\d{4})-W(\d{2})$/;

/**
 * The ISO-8601 week (UTC) that contains `atMs`.
 *
 * @example
 * isoWeekPeriod(Date.UTC(2026, 10, 23)) // '2026-W48'
 */
export function isoWeekPeriod(atMs: number): Period {
  const d = new Date(atMs);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.ceil(((thursday - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * True when `v` is a well-formed ISO week label.
 *
 * @example
 * isPeriod('2026-W48') // true
 */
export function isPeriod(v: unknown): v is Period {
  if (typeof v !== 'string') return false;
  const m = PERIOD_PATTERN.exec(v);
  if (!m) return false;
  const week = Number(m[2]);
  return week >= 1 && week <= 53;
}

/**
 * The start of an ISO week (Monday 00:00 UTC) in milliseconds.
 *
 * @example
 * new Date(periodStart('2026-W48')).toISOString() // '2026-11-23T00:00:00.000Z'
 */
export function periodStart(period: Period): number {
  const m = PERIOD_PATTERN.exec(period);
  if (!m) throw new RangeError(`not a period: ${period}`);
  const year = Number(m[1]);
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Day = (new Date(jan4).getUTCDay() + 6) % 7;
  return jan4 - jan4Day * 86_400_000 + (Number(m[2]) - 1) * 7 * 86_400_000;
}

const WEEK_MS = 7 * 86_400_000;

/**
 * Reports for a period are accepted until a day after it ends, for devices that were
 * offline over the boundary; only then is the period released, once and for good.
 */
export const REPORT_GRACE_MS = 86_400_000;

/**
 * The periods that still accept reports at `nowMs`: this week, and last week during the
 * first day of this one.
 *
 * @example
 * openPeriods(Date.UTC(2026, 10, 23, 12)) // ['2026-W48', '2026-W47']
 */
export function openPeriods(nowMs: number): Period[] {
  const current = isoWeekPeriod(nowMs);
  return nowMs < periodStart(current) + REPORT_GRACE_MS ? [current, isoWeekPeriod(nowMs - WEEK_MS)] : [current];
}

/**
 * True once a period takes no more reports, so its counts can be released and will never change.
 *
 * @example
 * isReleasable('2026-W47', Date.UTC(2026, 10, 24, 1)) // true
 */
export function isReleasable(period: Period, nowMs: number): boolean {
  return nowMs >= periodStart(period) + WEEK_MS + REPORT_GRACE_MS;
}

/**
 * The newest period that can be released at `nowMs`.
 *
 * @example
 * latestReleasablePeriod(Date.UTC(2026, 10, 23, 12)) // '2026-W46'
 */
export function latestReleasablePeriod(nowMs: number): Period {
  let p = isoWeekPeriod(nowMs - WEEK_MS);
  if (!isReleasable(p, nowMs)) p = isoWeekPeriod(nowMs - 2 * WEEK_MS);
  return p;
}

/**
 * The `count` periods before `period` and `period` itself, oldest first.
 *
 * @example
 * periodsUpTo('2027-W01', 3) // ['2026-W52', '2026-W53', '2027-W01']
 */
export function periodsUpTo(period: Period, count: number): Period[] {
  const start = periodStart(period);
  return Array.from({ length: count }, (_, i) => isoWeekPeriod(start - (count - 1 - i) * WEEK_MS));
}

/**
 * The periods whose impression reports are accepted at `nowMs`. A device reports a week's
 * impressions once that week is over (so the report covers all of it), any time during
 * the next week: impressions run one week behind segment reports.
 *
 * @example
 * impressionPeriods(Date.UTC(2026, 10, 25)) // ['2026-W47']
 */
export function impressionPeriods(nowMs: number): Period[] {
  return openPeriods(nowMs - WEEK_MS);
}

/**
 * True once a week's impressions take no more reports (the week after it is over too).
 *
 * @example
 * isImpressionReleasable('2026-W46', Date.UTC(2026, 10, 24, 1)) // true
 */
export function isImpressionReleasable(period: Period, nowMs: number): boolean {
  return isReleasable(period, nowMs - WEEK_MS);
}
