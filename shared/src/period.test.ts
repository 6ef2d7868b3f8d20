import { describe, expect, it } from 'vitest';
import { isoWeekPeriod, isPeriod, isReleasable, latestReleasablePeriod, openPeriods, periodsUpTo, periodStart } from './period.ts';

describe('ISO week periods (UTC)', () => {
  it.each([
    [Date.UTC(2026, 10, 23), '2026-W48'],
    [Date.UTC(2026, 10, 22, 23, 59), '2026-W47'],
    [Date.UTC(2021, 0, 3), '2020-W53'],
    [Date.UTC(2024, 11, 30), '2025-W01'],
    [Date.UTC(2026, 0, 1), '2026-W01'],
    [Date.UTC(2027, 0, 3), '2026-W53'],
  ])('%s is in %s', (at, week) => {
    expect(isoWeekPeriod(at)).toBe(week);
  });

  it('round-trips each week start for four years', () => {
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2028, 0, 1); t += 86_400_000) {
      const p = isoWeekPeriod(t);
      expect(isPeriod(p)).toBe(true);
      const start = periodStart(p);
      expect(t - start).toBeGreaterThanOrEqual(0);
      expect(t - start).toBeLessThan(7 * 86_400_000);
    }
  });

  it('rejects malformed labels', () => {
    for (const bad of ['2026-48', '2026-W00', '2026-W54', 'W48', 2026, null]) expect(isPeriod(bad)).toBe(false);
  });
});

describe('report windows and releases', () => {
  const monday = Date.UTC(2026, 10, 23); // 2026-W48 starts
  it('accepts last week only during the first day of this one', () => {
    expect(openPeriods(monday + 3_600_000)).toEqual(['2026-W48', '2026-W47']);
    expect(openPeriods(monday + 86_400_000 + 1)).toEqual(['2026-W48']);
  });
  it('releases a period only after its grace day, never while it takes reports', () => {
    expect(isReleasable('2026-W47', monday + 3_600_000)).toBe(false);
    expect(isReleasable('2026-W47', monday + 86_400_000)).toBe(true);
    expect(isReleasable('2026-W48', monday + 3 * 86_400_000)).toBe(false);
    for (let t = monday; t < monday + 14 * 86_400_000; t += 3_600_000) {
      for (const open of openPeriods(t)) expect(isReleasable(open, t)).toBe(false);
      expect(isReleasable(latestReleasablePeriod(t), t)).toBe(true);
    }
  });
  it('lists consecutive weeks across a year boundary', () => {
    expect(periodsUpTo('2027-W01', 3)).toEqual(['2026-W52', '2026-W53', '2027-W01']);
  });
});
