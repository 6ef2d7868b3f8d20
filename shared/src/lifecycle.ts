import { DAY_MS, type FeatureState } from './features/state.ts';
import { grrEncode } from './grr.ts';
import type { LifecycleRules, ModelManifest } from './manifest.ts';
import { cryptoRandom, type RandomSource } from './random.ts';

export const LIFECYCLE_STAGES = ['new', 'active', 'at_risk', 'lapsed'] as const;
/** `new`, `active`, `at_risk` or `lapsed`: the rule-based stage from first and last viewing, by the model's rules. */
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/**
 * The rule-based lifecycle overlay: useful segments even without a trained model.
 * Inactivity wins over newness (a new viewer who stopped watching is at risk).
 *
 * @example
 * lifecycleStage(state, Date.now(), { new_days: 14, at_risk_days: 10, lapsed_days: 30 })
 */
export function lifecycleStage(s: FeatureState, nowMs: number, rules: LifecycleRules): LifecycleStage | null {
  if (s.firstAt === null || s.lastAt === null) return null;
  const idleDays = (nowMs - s.lastAt) / DAY_MS;
  if (idleDays > rules.lapsed_days) return 'lapsed';
  if (idleDays > rules.at_risk_days) return 'at_risk';
  if ((nowMs - s.firstAt) / DAY_MS < rules.new_days) return 'new';
  return 'active';
}

/**
 * ε one weekly lifecycle report spends: `epsilon.lifecycle`, or `epsilon.report` when absent.
 *
 * @example
 * lifecycleEpsilon({ epsilon: { report: 2, lifecycle: 1 } }) // 1
 */
export function lifecycleEpsilon(manifest: Pick<ModelManifest, 'epsilon'>): number {
  return manifest.epsilon.lifecycle ?? manifest.epsilon.report;
}

/**
 * The randomized `value` of this week's lifecycle report: generalised randomized response
 * over the four stages (index in {@link LIFECYCLE_STAGES}) with the model's lifecycle ε.
 * Sent once a week beside the segment report, so marketers see lifecycle shares without
 * any server learning one viewer's stage.
 *
 * @example
 * const value = lifecycleReportValue(manifest, 'at_risk'); // 0..3, randomized
 */
export function lifecycleReportValue(manifest: Pick<ModelManifest, 'epsilon'>, stage: LifecycleStage, random: RandomSource = cryptoRandom): number {
  return grrEncode(LIFECYCLE_STAGES.indexOf(stage), LIFECYCLE_STAGES.length, lifecycleEpsilon(manifest), random);
}
