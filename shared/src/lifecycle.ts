import { DAY_MS, type FeatureState } from './features/state.ts';
import type { LifecycleRules } from './manifest.ts';

export const LIFECYCLE_STAGES = ['new', 'active', 'at_risk', 'lapsed'] as const;
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
