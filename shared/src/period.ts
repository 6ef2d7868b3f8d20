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
