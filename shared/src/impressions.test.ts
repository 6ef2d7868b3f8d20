import { describe, expect, it } from 'vitest';
import type { Campaign } from './campaigns.ts';
import { grrEncode } from './grr.ts';
import { estimateImpressions, impressionEpsilon, impressionTruth, impressionValue, parseImpressionBatch } from './impressions.ts';
import { seededRandom } from './random.ts';

const campaigns: Campaign[] = ['a', 'b', 'c'].map((id, segment) => ({ id, segment, kind: 'message', title: id }));

describe('impressionEpsilon', () => {
  it('uses epsilon.impression, else epsilon.report', () => {
    expect(impressionEpsilon({ epsilon: { report: 2, impression: 0.5 } })).toBe(0.5);
    expect(impressionEpsilon({ epsilon: { report: 2 } })).toBe(2);
  });
});

describe('impressionTruth', () => {
  it('is "none" (= campaigns.length) when nothing known was shown', () => {
    expect(impressionTruth(campaigns, [])).toBe(3);
    expect(impressionTruth(campaigns, ['deleted-campaign'])).toBe(3);
    expect(impressionTruth([], ['a'])).toBe(0);
  });

  it('picks uniformly among the campaigns shown', () => {
    const random = seededRandom(7);
    const hits = [0, 0, 0, 0];
    for (let i = 0; i < 6000; i++) hits[impressionTruth(campaigns, ['c', 'a'], random)]! += 1;
    expect(hits[1]).toBe(0);
    expect(hits[3]).toBe(0);
    expect(Math.abs(hits[0]! - 3000)).toBeLessThan(200); // 5.2 σ for Binomial(6000, 1/2)
  });
});

describe('impressionValue', () => {
  it('is a value in [0, campaigns.length], and 0 when the model has no campaigns', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      const v = impressionValue({ campaigns, epsilon: { report: 1 } }, ['b'], random);
      expect(v >= 0 && v <= 3).toBe(true);
    }
    expect(impressionValue({ epsilon: { report: 1 } }, ['b'], random)).toBe(0);
  });
});

describe('parseImpressionBatch', () => {
  it('accepts the report shape and refuses unknown fields', () => {
    const report = { id: 'abcdefghijklmnop', model_version: 2, period: '2026-W10', value: 3 };
    expect(parseImpressionBatch({ reports: [report] }).ok).toBe(true);
    expect(parseImpressionBatch({ reports: [{ ...report, segment: 1 }] }).ok).toBe(false);
    expect(parseImpressionBatch({ reports: [] }).ok).toBe(false);
  });
});

describe('estimateImpressions', () => {
  /** Simulates n devices of which truth[i] saw campaign i (rest: none), through the real GRR channel. */
  function simulate(ids: string[], truth: number[], n: number, epsilon: number, seed: number): number[] {
    const random = seededRandom(seed);
    const counts = new Array<number>(ids.length + 1).fill(0);
    let device = 0;
    truth.forEach((t, i) => {
      for (let j = 0; j < t; j++, device++) counts[grrEncode(i, ids.length + 1, epsilon, random)]! += 1;
    });
    for (; device < n; device++) counts[grrEncode(ids.length, ids.length + 1, epsilon, random)]! += 1;
    return counts;
  }

  it('recovers the true counts within the 95% interval, and suppresses small ones', () => {
    const counts = simulate(['a', 'b', 'c'], [3000, 1000, 0], 10_000, 2, 11);
    const out = estimateImpressions([{ campaignIds: ['a', 'b', 'c'], counts, epsilon: 2 }], 200);
    expect(out.map((o) => o.id)).toEqual(['a', 'b', 'c']);
    for (const [i, truth] of [3000, 1000].entries()) {
      const [lo, hi] = out[i]!.ci95!;
      expect(lo).toBeLessThanOrEqual(truth);
      expect(hi).toBeGreaterThanOrEqual(truth);
      expect(out[i]!.suppressed).toBe(false);
    }
    expect(out[2]).toEqual({ id: 'c', estimate: null, ci95: null, suppressed: true });
  });

  it('sums one campaign across model versions whose campaign lists differ', () => {
    const v1 = simulate(['a'], [800], 4000, 2, 21);
    const v2 = simulate(['b', 'a'], [500, 700], 4000, 2, 22);
    const out = estimateImpressions([{ campaignIds: ['a'], counts: v1, epsilon: 2 }, { campaignIds: ['b', 'a'], counts: v2, epsilon: 2 }], 50);
    const a = out.find((o) => o.id === 'a')!;
    expect(a.ci95![0]).toBeLessThanOrEqual(1500);
    expect(a.ci95![1]).toBeGreaterThanOrEqual(1500);
    const single = estimateImpressions([{ campaignIds: ['a'], counts: v1, epsilon: 2 }], 50)[0]!;
    expect(a.ci95![1] - a.ci95![0]).toBeGreaterThan(single.ci95![1] - single.ci95![0]); // variances add
  });

  it('adds a secure round’s noisy counts and noise variance to a GRR tally’s, per campaign', () => {
    const grr = { campaignIds: ['a'], counts: simulate(['a'], [800], 4000, 2, 31), epsilon: 2 };
    const secure = { campaignIds: ['b', 'a'], estimate: [300, 650], variance: [2 * 18.4 ** 2, 2 * 18.4 ** 2] };
    const [grrOnly] = estimateImpressions([grr], 50);
    const out = estimateImpressions([grr, secure], 50);
    const a = out.find((o) => o.id === 'a')!;
    expect(a.estimate! - grrOnly!.estimate!).toBeGreaterThanOrEqual(649); // rounding of the GRR part
    expect(a.estimate! - grrOnly!.estimate!).toBeLessThanOrEqual(651);
    expect(a.ci95![1] - a.ci95![0]).toBeGreaterThan(grrOnly!.ci95![1] - grrOnly!.ci95![0]);
    const b = estimateImpressions([secure], 50).find((o) => o.id === 'b')!;
    const half = 1.959964 * Math.sqrt(2 * 18.4 ** 2);
    expect(b).toEqual({ id: 'b', estimate: 300, ci95: [Math.round(300 - half), Math.round(300 + half)], suppressed: false });
  });

  it('gives the same numbers for the same counts', () => {
    const t = [{ campaignIds: ['a', 'b'], counts: [500, 300, 1200], epsilon: 1 }];
    expect(estimateImpressions(t, 10)).toEqual(estimateImpressions(t, 10));
  });
});
