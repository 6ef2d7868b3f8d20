/**
 * The helper policy functional tests run with (no Node imports, so workerd tests can
 * use it too). Tests of the helper's guarantees use the real defaults instead.
 */

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
