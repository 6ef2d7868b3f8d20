import { describe, expect, it } from 'vitest';
import { grrDebias } from './grr.ts';
import { LIFECYCLE_STAGES, lifecycleEpsilon, lifecycleReportValue, lifecycleStage } from './lifecycle.ts';
import { seededRandom } from './random.ts';
import type { FeatureState } from './features/state.ts';

const DAY = 86_400_000;
const rules = { new_days: 14, at_risk_days: 10, lapsed_days: 30 };
const now = Date.UTC(2026, 10, 23, 12);
const viewer = (firstDaysAgo: number, lastDaysAgo: number) => ({ firstAt: now - firstDaysAgo * DAY, lastAt: now - lastDaysAgo * DAY }) as FeatureState;

describe('lifecycleStage', () => {
  it.each<[string, FeatureState, string | null]>([
    ['no viewing yet', { firstAt: null, lastAt: null } as FeatureState, null],
    ['a viewer of 3 days', viewer(3, 0), 'new'],
    ['a regular viewer', viewer(200, 1), 'active'],
    ['a new viewer gone quiet for 11 days', viewer(12, 11), 'at_risk'],
    ['a viewer gone for 31 days', viewer(400, 31), 'lapsed'],
  ])('%s', (_, state, stage) => {
    expect(lifecycleStage(state, now, rules)).toBe(stage);
  });
});

describe('lifecycle reports', () => {
  it('spend epsilon.lifecycle, or epsilon.report when the model names none', () => {
    expect(lifecycleEpsilon({ epsilon: { report: 2, lifecycle: 0.5 } })).toBe(0.5);
    expect(lifecycleEpsilon({ epsilon: { report: 2 } })).toBe(2);
  });

  it('randomize the stage so that debiased counts recover the true shares', () => {
    const random = seededRandom(7);
    const truth = [1000, 5000, 2500, 1500]; // new, active, at_risk, lapsed
    const counts = [0, 0, 0, 0];
    const manifest = { epsilon: { report: 2, lifecycle: 1 } };
    truth.forEach((n, stage) => {
      for (let i = 0; i < n; i++) counts[lifecycleReportValue(manifest, LIFECYCLE_STAGES[stage] as (typeof LIFECYCLE_STAGES)[number], random)]! += 1;
    });
    const { estimate, stdError } = grrDebias(counts, 1);
    truth.forEach((n, stage) => {
      expect(Math.abs((estimate[stage] as number) - n)).toBeLessThan(4 * (stdError[stage] as number));
    });
    // Randomized: many reports differ from the truth (at ε = 1 over 4 values, about half).
    expect(counts[1]).toBeLessThan(0.75 * 5000);
  });
});
