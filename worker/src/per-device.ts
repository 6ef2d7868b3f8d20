/**
 * The most ε one device can have spent in any 30 or 365 days under the deployment's
 * configuration (not its traffic): the `per_device` of `GET /v1/privacy-ledger`.
 *
 * What a device can spend is the smaller of what the plan releases and what its own
 * budget lets it (DEVICE_BUDGET, which the SDK enforces):
 * - measurement, each week: the segment, lifecycle and impression counts, either in
 *   three secure counts rounds at COUNTS_EPSILON's ε each (two aggregators), or, single
 *   operator, as GRR reports at the model's ε. Memoised GRR charges only new answers; the
 *   worst case, a device whose values change every week, is assumed here. Impressions
 *   are counted whether or not the model has campaigns now: one can be added any day.
 * - model improvement: training rounds. Drift-triggered retraining and admin rounds can
 *   open at any time, so the plan does not bound it: the device's cap does.
 * Weekly releases are 7 days apart, so at most 5 fall in any 30 days and 53 in any 365;
 * 365 days are covered by 13 windows of 30 days, each holding at most one cap per purpose.
 * Totals compose under zCDP at δ = 1e-9 (each release's ρ: ε²/2 for GRR, Δ²/(2σ²) for a
 * discrete Gaussian round with the σ² the aggregators calibrate), or by plain Σ ε when
 * that is smaller; the 365-day total is also capped by the device.
 */
import { BUDGET_DELTA as PER_DEVICE_DELTA, DEVICE_BUDGET } from '@edgeseg/shared';
import { rhoForEpsilon, sigma2ForEpsilon, zcdpOfDiscreteGaussian, zcdpToEpsilon } from '@edgeseg/shared/dp';
import type { CountsEpsilon } from './counts-epsilon.ts';


export interface PerDevicePlan {
  /** How the weekly counts are measured. */
  measurement: 'secure' | 'grr';
  /** ε of each measure's weekly counts rounds, and their δ (secure). */
  counts: { epsilon: CountsEpsilon; delta: number };
  /** The current model's GRR ε per report kind (lifecycle and impression default to report's). */
  grr: { report: number; lifecycle: number; impression: number };
  /** ε and δ of a scheduled training round. */
  training: { epsilon: number; delta: number };
  /** The device budget (default {@link DEVICE_BUDGET}). */
  caps?: { measurement: number; model_improvement: number; total_365d: number };
}

export interface PerDevice {
  measurement_30d: number;
  model_improvement_30d: number;
  total_30d: number;
  total_365d: number;
}

const WEEKS_IN_30D = 5;
const WEEKS_IN_365D = 53;
const WINDOWS_IN_365D = 13;

/** ρ of a discrete Gaussian release at (ε, δ): the σ² the aggregators use (sigma2ForEpsilon), at sensitivity 1 (ρ does not depend on it). */
function gaussianRho(epsilon: number, delta: number): number {
  return epsilon > 0 ? zcdpOfDiscreteGaussian(1, sigma2ForEpsilon(epsilon, delta, 1)) : 0;
}

/** Releases of one purpose: ε and ρ per release. */
type Release = { epsilon: number; rho: number };

/**
 * ε and ρ a purpose can spend in a window: the plan's `count` × releases (as a whole
 * week), but the device stops a purpose once the smaller of Σ ε and its zCDP
 * composition would pass `cap`. So whatever it spent has either Σ ε ≤ cap (and then
 * ρ ≤ cap × the releases' highest ρ per ε) or ρ ≤ the ρ of cap: ρ is bounded by the
 * larger of the two; Σ ε only by the plan (basic composition may exceed the cap when
 * zCDP is the binding count).
 */
function spendable(week: readonly Release[], count: number, cap: number): Release {
  const epsilon = count * week.reduce((s, r) => s + r.epsilon, 0);
  const rho = count * week.reduce((s, r) => s + r.rho, 0);
  const ratio = Math.max(0, ...week.filter((r) => r.epsilon > 0).map((r) => r.rho / r.epsilon));
  return { epsilon, rho: Math.min(rho, Math.max(cap * ratio, rhoForEpsilon(cap, PER_DEVICE_DELTA))) };
}

/** Basic or zCDP composition, whichever is smaller, at {@link PER_DEVICE_DELTA}. */
function compose(parts: readonly Release[]): number {
  const epsilon = parts.reduce((s, r) => s + r.epsilon, 0);
  const rho = parts.reduce((s, r) => s + r.rho, 0);
  return Math.min(epsilon, zcdpToEpsilon(rho, PER_DEVICE_DELTA));
}

/**
 * The most ε one device can have spent in any 30 days per purpose and in total, and in
 * any 365 days in total, under `plan`.
 *
 * @example
 * perDevice({ measurement: 'secure', counts: { epsilon: DEFAULT_COUNTS_EPSILON, delta: 1e-9 }, grr: { report: 0.2, lifecycle: 0.05, impression: 0.05 }, training: { epsilon: 1, delta: 1e-9 } })
 * // { measurement_30d: ≈1.38, model_improvement_30d: 2, total_30d: ≈2.47, total_365d: ≈9.64 }
 */
export function perDevice(plan: PerDevicePlan): PerDevice {
  const caps = plan.caps ?? DEVICE_BUDGET;
  const pure = (epsilon: number): Release => ({ epsilon, rho: (epsilon * epsilon) / 2 });
  const gaussian = (epsilon: number): Release => ({ epsilon, rho: gaussianRho(epsilon, plan.counts.delta) });
  const { segment, lifecycle, impressions } = plan.counts.epsilon;
  const week = plan.measurement === 'secure' ? [gaussian(segment), gaussian(lifecycle), gaussian(impressions)] : [pure(plan.grr.report), pure(plan.grr.lifecycle), pure(plan.grr.impression)];
  // Training is bounded by the cap only (see the file comment); its ρ is the worst case of
  // spending the cap in rounds of the schedule's ε or one round of the whole cap.
  const roundsInCap = Math.max(1, Math.floor(caps.model_improvement / plan.training.epsilon + 1e-9));
  const trainingRho = Math.max(roundsInCap * gaussianRho(Math.min(plan.training.epsilon, caps.model_improvement), plan.training.delta), gaussianRho(caps.model_improvement, plan.training.delta));
  const training = (windows: number): Release => ({ epsilon: windows * caps.model_improvement, rho: windows * trainingRho });

  const m30 = spendable(week, WEEKS_IN_30D, caps.measurement);
  const m365 = spendable(week, WEEKS_IN_365D, WINDOWS_IN_365D * caps.measurement);
  const mi30 = training(1);
  return {
    measurement_30d: Math.min(caps.measurement, compose([m30])),
    model_improvement_30d: mi30.epsilon,
    total_30d: compose([m30, mi30]),
    total_365d: Math.min(caps.total_365d, compose([m365, training(WINDOWS_IN_365D)])),
  };
}
