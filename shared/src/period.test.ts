import { describe, expect, it } from 'vitest';
import { isoWeekPeriod, isPeriod, periodStart } from './period.ts';

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
