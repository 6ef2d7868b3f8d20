import { grrDebias } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import { lifecycleRelease, summariseSecureCounts, summariseTally } from './tally.ts';

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

describe('lifecycleRelease', () => {
  const epsilon = Math.log(3); // 4 stages → p = 1/2, q = 1/6
  const stages = ['new', 'active', 'at_risk', 'lapsed'];

  it('turns debiased stage counts into shares of the exact report total, intervals included', () => {
    const summary = summariseTally({ counts: [250, 400, 200, 150], epsilon, kThreshold: 50, labels: stages });
    const release = lifecycleRelease(summary);
    expect(release.reports).toBe(1000);
    expect(release.stages.map((s) => s.stage)).toEqual(stages);
    // n̂ = (c − 1000/6) × 3: 250, 700, 100, −50 → the last is suppressed
    expect(release.stages.map((s) => s.count)).toEqual([250, 700, 100, null]);
    expect(release.stages[1]?.share).toBeCloseTo(0.7, 10);
    const [lo, hi] = release.stages[1]?.share_ci95 ?? [NaN, NaN];
    expect(lo).toBeCloseTo((summary.segments[1]?.ci95?.[0] ?? NaN) / 1000, 10);
    expect(hi).toBeCloseTo((summary.segments[1]?.ci95?.[1] ?? NaN) / 1000, 10);
    expect(release.stages[3]).toEqual({ stage: 'lapsed', count: null, ci95: null, share: null, share_ci95: null, suppressed: true });
  });

  it('reads a secure lifecycle counts round: shares of the valid contributions ("none" included), its mechanism and noise', () => {
    // 4 stages then "none"; both aggregators' noise, variance 2 × 18.4².
    const summary = summariseSecureCounts({ noisy: [120, 610, 180, 12, 78], noiseVariance: 2 * 18.4 ** 2, epsilon: 0.3, kThreshold: 50, labels: stages, contributions: 1000 });
    const release = lifecycleRelease(summary);
    expect(release).toMatchObject({ reports: 1000, mechanism: 'secure-counts', epsilon: 0.3, kThreshold: 50 });
    expect(release.stages.map((s) => s.count)).toEqual([120, 610, 180, null]);
    expect(release.stages[1]?.share).toBeCloseTo(0.61, 10);
    expect(summary.noise_sd).toBeCloseTo(Math.sqrt(2) * 18.4, 10);
  });

  it('keeps shares and intervals within [0, 1]', () => {
    const release = lifecycleRelease(summariseTally({ counts: [900, 40, 30, 30], epsilon, kThreshold: 50, labels: stages }));
    for (const s of release.stages) {
      for (const x of [s.share, ...(s.share_ci95 ?? [])]) if (x !== null) expect(x >= 0 && x <= 1).toBe(true);
    }
    expect(release.stages[0]?.share_ci95?.[1]).toBe(1);
  });
});
