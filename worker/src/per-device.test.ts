import { sigma2ForEpsilon, zcdpOfDiscreteGaussian, zcdpToEpsilon } from '@edgeseg/shared/dp';
import { describe, expect, it } from 'vitest';
import { bootstrapManifest } from './bootstrap-model.ts';
import { DEVICE_BUDGET } from '@edgeseg/shared';
import { DEFAULT_COUNTS_EPSILON } from './counts-epsilon.ts';
import { perDevice, type PerDevicePlan } from './per-device.ts';

const grr = bootstrapManifest(0).epsilon;
const plan: PerDevicePlan = {
  measurement: 'secure',
  counts: { epsilon: DEFAULT_COUNTS_EPSILON, delta: 1e-9 },
  grr: { report: grr.report, lifecycle: grr.lifecycle ?? grr.report, impression: grr.impression ?? grr.report },
  training: { epsilon: 1, delta: 1e-9 },
};
const rhoOf = (epsilon: number) => zcdpOfDiscreteGaussian(1, sigma2ForEpsilon(epsilon, 1e-9, 1));

describe('per_device: the most ε one device can spend, from configuration', () => {
  it('never passes the device caps, per purpose or in total, in either measurement mode', () => {
    for (const measurement of ['secure', 'grr'] as const) {
      const d = perDevice({ ...plan, measurement });
      expect(d.measurement_30d).toBeLessThanOrEqual(DEVICE_BUDGET.measurement + 1e-9);
      expect(d.model_improvement_30d).toBeLessThanOrEqual(DEVICE_BUDGET.model_improvement);
      expect(d.total_30d).toBeLessThanOrEqual(d.measurement_30d + d.model_improvement_30d + 1e-9);
      expect(d.total_30d).toBeLessThan(4);
      expect(d.total_365d).toBeLessThanOrEqual(DEVICE_BUDGET.total_365d);
    }
  });

  it('the bootstrap model’s GRR fits 2 ε per 30 days even if every value changes every week (5 weeks of fresh draws)', () => {
    expect(5 * (plan.grr.report + plan.grr.lifecycle + plan.grr.impression)).toBeLessThanOrEqual(DEVICE_BUDGET.measurement + 1e-9);
    expect(perDevice({ ...plan, measurement: 'grr' }).measurement_30d).toBeCloseTo(5 * (plan.grr.report + plan.grr.lifecycle + plan.grr.impression), 12);
  });

  it('two aggregators: five weeks of segment, lifecycle and impression counts rounds fit 2 ε per 30 days, composed', () => {
    // By plain sums 5 × (0.4 + 0.3 + 0.3) = 5 would stop the third week;
    // composed under zCDP the five weeks cost about 1.38, so no weekly count is silenced.
    const week = rhoOf(0.4) + 2 * rhoOf(0.3);
    const d = perDevice(plan);
    expect(d.measurement_30d).toBeCloseTo(zcdpToEpsilon(5 * week, 1e-9), 12);
    expect(d.measurement_30d).toBeLessThan(DEVICE_BUDGET.measurement);
    expect(d.total_365d).toBeLessThan(DEVICE_BUDGET.total_365d); // a year of weeks fits too: no count is cut off late in the year
  });

  it('follows the plan below the caps and the caps above it', () => {
    // Small counts ε: the plan binds (5 weeks), not the cap.
    const small = perDevice({ ...plan, counts: { epsilon: { segment: 0.1, lifecycle: 0.05, impressions: 0.05 }, delta: 1e-9 } });
    // Five weeks of three secure counts, the smaller of Σ ε and the zCDP composition.
    const composed = zcdpToEpsilon(5 * (rhoOf(0.1) + 2 * rhoOf(0.05)), 1e-9);
    expect(small.measurement_30d).toBeCloseTo(Math.min(5 * (0.1 + 0.05 + 0.05), composed), 12);
    expect(small.measurement_30d).toBeLessThan(5 * (0.1 + 0.05 + 0.05)); // many small Gaussian releases compose below Σ ε
    // The old model (GRR 2 + 1 + 1 a week, 20 per 30 days): the cap binds.
    const old = perDevice({ ...plan, measurement: 'grr', grr: { report: 2, lifecycle: 1, impression: 1 } });
    expect(old.measurement_30d).toBe(DEVICE_BUDGET.measurement);
    expect(old.total_365d).toBe(DEVICE_BUDGET.total_365d);
  });

  it('composes the 30-day total under zCDP from the rounds’ calibrated ρ', () => {
    const d = perDevice(plan);
    // Measurement: 5 weeks of 0.4 + 0.3 + 0.3 stay under the cap (2); its ρ is at most 5 weeks' worth.
    const weekRho = rhoOf(0.4) + 2 * rhoOf(0.3);
    const trainingRho = Math.max(2 * rhoOf(1), rhoOf(2));
    expect(d.total_30d).toBeLessThanOrEqual(zcdpToEpsilon(5 * weekRho + trainingRho, 1e-9) + 1e-9);
    expect(d.total_30d).toBeGreaterThan(zcdpToEpsilon(trainingRho, 1e-9));
  });
});

describe('GRR_EPSILON', () => {
  it('reads "report,lifecycle,impression" and ignores anything malformed or out of range', async () => {
    const { grrEpsilonOf } = await import('./bootstrap-model.ts');
    expect(grrEpsilonOf('2,1,1')).toEqual({ report: 2, lifecycle: 1, impression: 1 });
    for (const bad of [undefined, '', '2,1', '2,1,1,1', '0,1,1', '2,1,x', '21,1,1']) expect(grrEpsilonOf(bad)).toBeNull();
    expect(bootstrapManifest(0, grrEpsilonOf('2,1,1')).epsilon).toEqual({ report: 2, lifecycle: 1, impression: 1 });
    expect(bootstrapManifest(0).epsilon).toEqual({ report: 0.2, lifecycle: 0.05, impression: 0.05 });
  });
});
