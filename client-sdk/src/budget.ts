/**
 * The device's privacy budget: its defaults and how an app's `budget` option is read.
 * Kept apart from the ledger (ledger.ts) so the core carries these few constants without
 * the zCDP accounting, which only the release and data chunks need.
 */

import { DEVICE_BUDGET, type DeviceBudget } from '@edgeseg/shared';

/** The device's ceilings: ε per 30 days per purpose, and ε per 365 days in total (zCDP at δ = 1e-9). */
export type Budget = DeviceBudget;

/**
 * The defaults, and the most an app may set: shared's DEVICE_BUDGET, the figures the
 * leader's ledger and the preference centre state (measurement 2 and model_improvement 2
 * per 30 days, about 2.9 together under zCDP; 11 per 365 days in total).
 */
export const DEFAULT_BUDGET: Readonly<Budget> = DEVICE_BUDGET;

/**
 * The budget an app asked for, never above the defaults: the preference centre and the
 * consent text promise viewers these ceilings, so an app may lower them (as iOS lets an
 * app ask for less than the system allows, never more) and a higher value is clamped to
 * the default. Returns the budget and the names of the values that were clamped.
 *
 * @example
 * clampBudget({ measurement: 20 }) // { budget: { measurement: 2, model_improvement: 2, total_365d: 11 }, clamped: ['measurement'] }
 */
export function clampBudget(asked: Partial<Budget> = {}): { budget: Budget; clamped: (keyof Budget)[] } {
  const budget = { ...DEFAULT_BUDGET };
  const clamped: (keyof Budget)[] = [];
  for (const key of Object.keys(DEFAULT_BUDGET) as (keyof Budget)[]) {
    const v = asked[key];
    if (v === undefined) continue;
    if (v > DEFAULT_BUDGET[key]) clamped.push(key);
    else budget[key] = v;
  }
  return { budget, clamped };
}

