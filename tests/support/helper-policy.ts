/**
 * The helper policy functional tests run with (no Node imports, so workerd tests can
 * use it too). Tests of the helper's guarantees use the real defaults instead.
 */
import { rhoForEpsilon, zcdpToEpsilon } from '@edgeseg/shared/dp';

/**
 * A helper policy for functional tests only (helper/wrangler.toml vars): batches of one
 * device and generous budgets, so tests of other features can run small rounds. Tests of
 * the helper's guarantees pass `{ helper: {} }` to `startStack` and get the real defaults.
 */
export const LENIENT_TEST_HELPER_POLICY: Readonly<Record<string, string>> = Object.freeze({
  HELPER_MIN_BATCH: '1',
  HELPER_MAX_EPSILON: '20',
  HELPER_MAX_DELTA: '1e-3',
  HELPER_BUDGET_TRAINING: '1000',
  HELPER_BUDGET_MEASUREMENT: '1000',
  HELPER_MAX_GROUPS: '64',
  HELPER_MAX_SLICES: '64',
  HELPER_MAX_DURATION_S: String(30 * 86_400),
});

/**
 * What one device can have spent in `epsilons` (one release each, δ = 1e-9) as the
 * helper's budget and the device count it: the smaller of Σ ε and the zCDP composition of
 * each release's Gaussian ρ. Written from `@edgeseg/shared/dp` here, apart from the
 * helper's code, so the tests check the helper against the arithmetic, not against itself.
 *
 * @example
 * composedEpsilon([0.5, 0.5, 0.5, 0.5]) // ≈ 1.1, where Σ ε = 2
 */
export function composedEpsilon(epsilons: readonly number[]): number {
  const sum = epsilons.reduce((a, b) => a + b, 0);
  return Math.min(sum, zcdpToEpsilon(epsilons.reduce((rho, e) => rho + rhoForEpsilon(e, 1e-9), 0), 1e-9));
}
