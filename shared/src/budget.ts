/**
 * The per-device privacy budget every party states the same way: the SDK enforces it
 * (and lets an app lower it, never raise it), the leader's ledger reports the most a
 * device can have spent under it (`per_device`), and the preference centre shows it.
 */

/** ε ceilings: per sliding 30 days for each purpose, and per sliding 365 days in total. */
export interface DeviceBudget {
  measurement: number;
  model_improvement: number;
  /** Every release of every kind together, composed under zCDP at {@link BUDGET_DELTA}. */
  total_365d: number;
}

/**
 * The default and largest budget: measurement 2 and model improvement 2 per 30 days
 * (about 2.9 together under zCDP), 11 per 365 days in total.
 */
export const DEVICE_BUDGET: Readonly<DeviceBudget> = { measurement: 2, model_improvement: 2, total_365d: 11 };

/** δ at which the budget's totals are stated (and below which the device never counts a release's δ). */
export const BUDGET_DELTA = 1e-9;
