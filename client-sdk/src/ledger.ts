/**
 * The on-device privacy ledger: what each release cost, and the check that stops a
 * release at the device's budget. Three limits, each over a sliding window:
 *
 * - measurement: its releases over the last 30 days ≤ its cap (default 2 ε);
 * - model_improvement: its releases over the last 30 days ≤ its cap (default 2 ε);
 * - everything together over the last 365 days ≤ 11 ε.
 *
 * Each limit composes its releases at δ = 1e-9 under zCDP (Bun & Steinke 2016): each
 * release's ρ is added and the sum converted back to ε with the tight CKS20 conversion.
 * Basic composition (Σ ε, δ = 0) is also a valid bound, so the smaller of the two is
 * what counts (five weekly Gaussian counts rounds of ε 0.4 compose to about 1.2, not 2).
 *
 * A release's ρ: a pure ε-DP release (randomized response) is ε²/2-zCDP; a discrete
 * Gaussian release of (ε, δ) has the σ² the aggregators calibrate with `sigma2ForEpsilon`,
 * i.e. the largest ρ whose tight conversion at δ is ≤ ε ({@link rhoOfGaussian}).
 */
import { BUDGET_DELTA } from '@edgeseg/shared';
import { rhoForEpsilon, zcdpToEpsilon } from '@edgeseg/shared/dp';
import type { Budget } from './budget.ts';
import type { LedgerEntry } from './store.ts';

export const LEDGER_WINDOW_MS = 30 * 86_400_000;
export const YEAR_WINDOW_MS = 365 * 86_400_000;

/** The purposes that spend ε. */
export type SpendingPurpose = LedgerEntry['purpose'];

/** What one release costs: ε (basic composition) and ρ (zCDP). */
export interface Cost {
  epsilon: number;
  rho: number;
}

/**
 * ρ of a pure ε-DP release (randomized response): ε²/2.
 *
 * @example
 * rhoOfPure(0.2) // 0.02
 */
export function rhoOfPure(epsilon: number): number {
  return (epsilon * epsilon) / 2;
}

/**
 * ρ of a discrete Gaussian release the aggregators calibrated for (ε, δ): the largest ρ
 * with zcdpToEpsilon(ρ, δ) ≤ ε (bisection), so never below the σ² they use. δ below
 * {@link BUDGET_DELTA} is charged as BUDGET_DELTA: a smaller δ gives a smaller ρ, and the
 * device does not undercount on a round's say-so.
 *
 * @example
 * rhoOfGaussian(0.4, 1e-9) // ≈ 0.0019
 */
export function rhoOfGaussian(epsilon: number, delta: number): number {
  return rhoForEpsilon(epsilon, Math.min(0.5, Math.max(delta, BUDGET_DELTA)));
}

/** ρ of an entry; entries written before ρ was recorded count as pure ε-DP (ε²/2, never less than a Gaussian's). */
const rhoOf = (e: LedgerEntry): number => (e.rho === undefined ? rhoOfPure(e.epsilon) : e.rho);

const inWindow = (e: LedgerEntry, nowMs: number, windowMs: number): boolean => e.at > nowMs - windowMs && e.at <= nowMs;

const NOTHING: Cost = { epsilon: 0, rho: 0 };

/** Basic (Σ ε) or zCDP (Σ ρ at δ = 1e-9) composition of the entries in a window (of one purpose, or all), plus `extra`: whichever is smaller, both being valid bounds. */
function composedSpent(entries: readonly LedgerEntry[], purpose: SpendingPurpose | null, nowMs: number, windowMs: number, extra: Cost): number {
  let epsilon = extra.epsilon;
  let rho = extra.rho;
  for (const e of entries) {
    if (!inWindow(e, nowMs, windowMs) || (purpose !== null && e.purpose !== purpose)) continue;
    epsilon += e.epsilon;
    rho += rhoOf(e);
  }
  return Math.min(epsilon, zcdpToEpsilon(rho, BUDGET_DELTA));
}

/**
 * ε spent for `purpose` in the `windowMs` (default 30 days) before `nowMs`, plus `extra`:
 * the smaller of basic composition (Σ ε) and zCDP composition (Σ ρ converted at δ = 1e-9).
 * Many small Gaussian releases (weekly counts) compose far below their Σ ε.
 *
 * @example
 * epsilonSpent(entries, 'measurement', Date.now()) // 1.3
 */
export function epsilonSpent(entries: readonly LedgerEntry[], purpose: SpendingPurpose, nowMs: number, windowMs = LEDGER_WINDOW_MS, extra: Cost = NOTHING): number {
  return composedSpent(entries, purpose, nowMs, windowMs, extra);
}

/**
 * ε spent by all purposes together in the `windowMs` before `nowMs`, plus `extra`: the
 * smaller of basic composition (Σ ε) and zCDP composition (Σ ρ converted at δ = 1e-9).
 *
 * @example
 * totalSpent(entries, Date.now(), YEAR_WINDOW_MS) // 7.3
 */
export function totalSpent(entries: readonly LedgerEntry[], nowMs: number, windowMs: number, extra: Cost = NOTHING): number {
  return composedSpent(entries, null, nowMs, windowMs, extra);
}

/**
 * What the device has spent, per window, as the export and the preference centre show it.
 *
 * @example
 * spentByWindow(entries, Date.now()) // { measurement_30d: 1.2, model_improvement_30d: 1, total_30d: 1.9, total_365d: 6.4 }
 */
export function spentByWindow(entries: readonly LedgerEntry[], nowMs: number): { measurement_30d: number; model_improvement_30d: number; total_30d: number; total_365d: number } {
  return {
    measurement_30d: epsilonSpent(entries, 'measurement', nowMs),
    model_improvement_30d: epsilonSpent(entries, 'model_improvement', nowMs),
    total_30d: totalSpent(entries, nowMs, LEDGER_WINDOW_MS),
    total_365d: totalSpent(entries, nowMs, YEAR_WINDOW_MS),
  };
}

/** Why a release does not fit, or null. */
export type OverBudget = 'over the 30-day ε cap' | 'over the 365-day ε cap';

/**
 * Null when spending `cost` more now keeps `purpose` within its 30-day cap and the total
 * within the 365-day cap; else which cap it would pass.
 *
 * @example
 * overBudget(entries, 'measurement', { epsilon: 0.4, rho: rhoOfGaussian(0.4, 1e-9) }, DEFAULT_BUDGET, Date.now()) // null
 */
export function overBudget(entries: readonly LedgerEntry[], purpose: SpendingPurpose, cost: Cost, budget: Budget, nowMs: number): OverBudget | null {
  if (epsilonSpent(entries, purpose, nowMs, LEDGER_WINDOW_MS, cost) > budget[purpose] + 1e-9) return 'over the 30-day ε cap';
  if (cost.epsilon > 0 && totalSpent(entries, nowMs, YEAR_WINDOW_MS, cost) > budget.total_365d + 1e-9) return 'over the 365-day ε cap';
  return null;
}
