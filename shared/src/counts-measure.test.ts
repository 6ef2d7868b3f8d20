import { describe, expect, it } from 'vitest';
import { countsCategories, countsCloseMs, countsPeriod, measureOf } from './counts-measure.ts';
import { isImpressionReleasable, isReleasable, periodStart } from './period.ts';

const manifest = { labels: ['Bingers', 'Dippers'], campaigns: [{ id: 'spring' }, { id: 'kids-week' }] } as Parameters<typeof countsCategories>[1];

describe('counts measures', () => {
  it('reads an absent measure as segments, for rounds SDKs before the field know', () => {
    expect(measureOf({})).toBe('segment');
    expect(measureOf({ measure: 'impressions' })).toBe('impressions');
  });

  it('names the categories of each measure from the signed model', () => {
    expect(countsCategories('segment', manifest)).toEqual(['Bingers', 'Dippers']);
    expect(countsCategories('lifecycle', manifest)).toEqual(['new', 'active', 'at_risk', 'lapsed']);
    expect(countsCategories('impressions', manifest)).toEqual(['spring', 'kids-week']);
    expect(countsCategories('impressions', { labels: [] })).toEqual([]);
  });

  it('reports impressions for the week before, segments and stages for this week', () => {
    const thursday = Date.UTC(2026, 11, 3, 12); // 2026-W49
    expect(countsPeriod('segment', thursday)).toBe('2026-W49');
    expect(countsPeriod('lifecycle', thursday)).toBe('2026-W49');
    expect(countsPeriod('impressions', thursday)).toBe('2026-W48');
  });

  it('closes a round exactly when its week becomes releasable, never before', () => {
    for (const measure of ['segment', 'lifecycle'] as const) {
      const close = countsCloseMs(measure, '2026-W48');
      expect(isReleasable('2026-W48', close - 1)).toBe(false);
      expect(isReleasable('2026-W48', close)).toBe(true);
    }
    const close = countsCloseMs('impressions', '2026-W48');
    expect(isImpressionReleasable('2026-W48', close - 1)).toBe(false);
    expect(isImpressionReleasable('2026-W48', close)).toBe(true);
    expect(close - periodStart('2026-W48')).toBe(15 * 86_400_000);
  });
});
