import { grrDebias } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import { summariseTally } from './tally.ts';

describe('summariseTally', () => {
  const epsilon = Math.log(3); // k = 4 → p = 1/2, q = 1/6
  const labels = ['a', 'b', 'c', 'd'];

  it('debiases, rounds, and gives a 95% interval around each published count', () => {
    const s = summariseTally({ counts: [600, 200, 120, 80], epsilon, kThreshold: 50, labels });
    // n = 1000: n̂₀ = (600 − 1000/6) / (1/2 − 1/6) = 1300
    expect(s.segments[0]?.count).toBe(1300);
    const { stdError } = grrDebias([600, 200, 120, 80], epsilon);
    expect(s.segments[0]?.ci95).toEqual([Math.round(1300 - 1.959964 * (stdError[0] as number)), Math.round(1300 + 1.959964 * (stdError[0] as number))]);
    expect(s.reports).toBe(1000);
    expect(s.mechanism).toBe('grr');
  });

  it('suppresses every segment whose estimate is under the threshold, hiding count and interval', () => {
    const s = summariseTally({ counts: [600, 200, 120, 80], epsilon, kThreshold: 50, labels });
    // n̂₃ = (80 − 166.7) / (1/3) < 0, n̂₂ = (120 − 166.7) × 3 < 0
    expect(s.segments.map((x) => x.suppressed)).toEqual([false, false, true, true]);
    expect(s.segments[3]).toEqual({ segment: 3, label: 'd', count: null, ci95: null, suppressed: true });
  });

  it('publishes nothing at all from a handful of reports', () => {
    const s = summariseTally({ counts: [3, 1, 0, 1], epsilon, kThreshold: 50, labels });
    expect(s.segments.every((x) => x.suppressed)).toBe(true);
  });
});
