/** The helper role: an independent guardian with its own policy, its own σ², its own release rules and its own signed ledger. */
export {
  BUDGET_TOLERANCE,
  BUDGET_WINDOW_S,
  DEFAULT_HELPER_POLICY,
  OPENS_AT_SKEW_S,
  POLICY_VARS,
  budgetKindOf,
  formatSigma2,
  helperPolicyFromVars,
  mergePolicy,
  parseSigma2,
  reviewRound,
  type AcceptedRoundCharge,
  type BudgetKind,
  type HelperPolicy,
  type HelperPolicyVars,
  type ReviewContext,
  type RoundReview,
  type RoundRule,
} from './policy.ts';
export { decideRelease, sameSelector, type ReleaseDecision, type ReleasePlan, type ReleaseRound, type ReleaseRule } from './release.ts';
export { LEDGER_ISSUER, LEDGER_JWS_TYPE, ledgerPayload, ledgerRelease, signLedger, type LedgerPayload, type LedgerRelease } from './ledger.ts';
export {
  HELPER_SHARDS,
  HelperCoordinator,
  ROUND_RETENTION_S,
  type HelperCoordinatorEnv,
  type HelperKeyUse,
  type HelperOpenResult,
  type HelperReleaseAnswer,
  type HelperReleaseResult,
  type HelperRound,
} from './coordinator.ts';
export { HelperShard } from './shard.ts';
export { decideRelayedReport, type HelperVerifyContext, type RelayedReportDecision } from './verify.ts';
