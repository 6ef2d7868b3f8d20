/**
 * The helper's policy, set only by the helper's operator, and the review of a round the
 * leader asks the helper to serve (DAP helpers' task configuration checks and their
 * `opt_out_reason`): the helper computes σ² itself and serves no round outside policy.
 */
import { BUDGET_DELTA, type CountsMeasure, type HpkeConfig, type RoundDescriptor } from '@edgeseg/shared';
import { reduceRational, rhoForEpsilon, sigma2ForEpsilon, zcdpToEpsilon, type Rational } from '@edgeseg/shared/dp';
import { MAX_ENCODING_BOUND, sameHpkeConfig } from '@edgeseg/shared/secure';

/** What the helper's operator allows. Flat, so a partial JSON patch names fields directly. */
export interface HelperPolicy {
  /** Minimum contributions per released bucket (one slice and group). */
  min_batch: number;
  /** Largest ε of one round. */
  max_epsilon: number;
  /** Largest δ of one round. */
  max_delta: number;
  /** ε of k-means rounds whose close falls in any 30 days (composed: see {@link reviewRound}). */
  budget_training: number;
  /** ε of counts rounds whose close falls in any 30 days (composed: see {@link reviewRound}). */
  budget_measurement: number;
  max_groups: number;
  max_slices: number;
  /** Largest closes_at − opens_at, in seconds. */
  max_duration_s: number;
}

/** The rules a refusal names (the `rule` member of a 422 `round-refused`). */
export type RoundRule =
  | 'mode'
  | 'min-batch'
  | 'max-epsilon'
  | 'max-delta'
  | 'budget'
  | 'max-groups'
  | 'max-slices'
  | 'max-duration'
  | 'times'
  | 'sigma2'
  | 'helper-key'
  | 'encoding'
  | 'shape';

/** Budget kinds: k-means rounds train the model, counts rounds measure segments. */
export type BudgetKind = 'training' | 'measurement';

/** A round the helper already accepted, as the budget sees it. */
export interface AcceptedRoundCharge {
  round_id: string;
  kind: RoundDescriptor['kind'];
  epsilon: number;
  delta: number;
  closes_at: number;
  /** Counts rounds: the week counted and what is counted (a device joins one such round per pair). */
  period?: string;
  measure?: CountsMeasure;
}

/**
 * What a round charges the budget, from its descriptor.
 *
 * @example
 * const charges = storedRounds.map((r) => roundCharge(r.descriptor));
 */
export function roundCharge(d: RoundDescriptor): AcceptedRoundCharge {
  return { round_id: d.round_id, kind: d.kind, epsilon: d.epsilon, delta: d.delta, closes_at: d.closes_at, ...(d.kind === 'counts' && d.period ? { period: d.period, measure: d.measure ?? 'segment' } : {}) };
}

/** What a review needs besides the descriptor: the helper's clock, keys and earlier rounds. */
export interface ReviewContext {
  nowS: number;
  /** The helper's own published HPKE configs (current first). */
  ownHelperConfigs: readonly HpkeConfig[];
  /** Rounds the helper accepted before (any state), for the 30-day budget. */
  acceptedRounds: readonly AcceptedRoundCharge[];
}

/** The outcome of a review: the helper's own σ² ("num/den"), or the rule broken and why. */
export type RoundReview = { ok: true; sigma2: string } | { ok: false; rule: RoundRule; detail: string };

/** The policy a helper runs with when its operator set nothing (README "Helper policy"). */
export const DEFAULT_HELPER_POLICY: Readonly<HelperPolicy> = Object.freeze({
  min_batch: 100,
  max_epsilon: 1,
  max_delta: 1e-9,
  budget_training: 2,
  budget_measurement: 2,
  max_groups: 16,
  max_slices: 16,
  max_duration_s: 14 * 86_400,
});

/** The var (helper/wrangler.toml) behind each policy field. */
export const POLICY_VARS = Object.freeze({
  min_batch: 'HELPER_MIN_BATCH',
  max_epsilon: 'HELPER_MAX_EPSILON',
  max_delta: 'HELPER_MAX_DELTA',
  budget_training: 'HELPER_BUDGET_TRAINING',
  budget_measurement: 'HELPER_BUDGET_MEASUREMENT',
  max_groups: 'HELPER_MAX_GROUPS',
  max_slices: 'HELPER_MAX_SLICES',
  max_duration_s: 'HELPER_MAX_DURATION_S',
} as const satisfies Record<keyof HelperPolicy, string>);

/** The helper's policy vars as a Worker's bindings carry them (strings; absent means the default). */
export type HelperPolicyVars = { [K in keyof HelperPolicy as (typeof POLICY_VARS)[K]]?: string };

const POLICY_KEYS = Object.keys(DEFAULT_HELPER_POLICY) as (keyof HelperPolicy)[];
const INTEGER_FIELDS: ReadonlySet<keyof HelperPolicy> = new Set(['min_batch', 'max_groups', 'max_slices', 'max_duration_s']);
/** Budgets are compared with this slack, so ε values written as decimals add up as meant. */
export const BUDGET_TOLERANCE = 1e-9;
/** A round may name an open time this far from the helper's clock, either way. */
export const OPENS_AT_SKEW_S = 300;
/** The budget window. */
export const BUDGET_WINDOW_S = 30 * 86_400;

/** Why a value is not acceptable for a field, or null when it is. */
function fieldProblem(key: keyof HelperPolicy, v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
  if (INTEGER_FIELDS.has(key)) return Number.isSafeInteger(v) && v >= 1 ? null : 'must be an integer ≥ 1';
  if (key === 'max_delta') return v > 0 && v < 1 ? null : 'must be in (0, 1)';
  return v > 0 ? null : 'must be > 0';
}

/**
 * The policy from the helper's vars: each HELPER_* var that is set replaces its default.
 * A var that does not parse throws, naming it (the helper refuses to run on a typo).
 *
 * @example
 * const policy = helperPolicyFromVars({ HELPER_MIN_BATCH: '200' }); // min_batch 200, other defaults
 */
export function helperPolicyFromVars(vars: Readonly<Record<string, unknown>>): HelperPolicy {
  const policy: HelperPolicy = { ...DEFAULT_HELPER_POLICY };
  for (const key of POLICY_KEYS) {
    const raw = vars[POLICY_VARS[key]];
    if (raw === undefined || raw === '') continue;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    const problem = fieldProblem(key, value);
    if (problem) throw new RangeError(`${POLICY_VARS[key]}: ${problem}, got ${JSON.stringify(raw)}`);
    policy[key] = value;
  }
  return policy;
}

/**
 * Applies an operator's partial policy (the body of `PUT /v1/admin/policy`) to the
 * policy in force: unknown fields or bad values refuse the whole patch, with one message
 * per problem.
 *
 * @example
 * const r = mergePolicy(policy, { min_batch: 500 });
 * if (r.ok) store(r.value);
 */
export function mergePolicy(current: HelperPolicy, patch: unknown): { ok: true; value: HelperPolicy } | { ok: false; errors: string[] } {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return { ok: false, errors: ['policy: must be a JSON object'] };
  const errors: string[] = [];
  const next: HelperPolicy = { ...current };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (!(POLICY_KEYS as string[]).includes(key)) {
      errors.push(`${key}: unknown field (known: ${POLICY_KEYS.join(', ')})`);
      continue;
    }
    const problem = fieldProblem(key as keyof HelperPolicy, value);
    if (problem) errors.push(`${key}: ${problem}`);
    else next[key as keyof HelperPolicy] = value as number;
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: next };
}

/**
 * The budget a kind of round charges.
 *
 * @example
 * budgetKindOf('counts') // 'measurement'
 */
export function budgetKindOf(kind: RoundDescriptor['kind']): BudgetKind {
  return kind === 'counts' ? 'measurement' : 'training';
}

/**
 * Parses "num/den" (or an integer) into a reduced positive rational, or null.
 *
 * @example
 * parseSigma2('9/2') // { num: 9n, den: 2n }
 */
export function parseSigma2(text: unknown): Rational | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d{1,400})(?:\/(\d{1,400}))?$/.exec(text);
  if (!m) return null;
  const num = BigInt(m[1] as string);
  const den = BigInt(m[2] ?? '1');
  if (num === 0n || den === 0n) return null;
  return reduceRational({ num, den });
}

/**
 * A rational as "num/den" (the wire form of σ²).
 *
 * @example
 * formatSigma2({ num: 9n, den: 2n }) // '9/2'
 */
export function formatSigma2(r: Rational): string {
  return `${r.num}/${r.den}`;
}

function shapeProblem(d: RoundDescriptor): string | null {
  if (!Number.isSafeInteger(d.k) || d.k < 1) return `k = ${String(d.k)}: must be an integer ≥ 1`;
  if (!Number.isSafeInteger(d.d) || d.d < (d.kind === 'kmeans' ? 1 : 0)) return `d = ${String(d.d)}: must be an integer ≥ ${d.kind === 'kmeans' ? 1 : 0}`;
  if (d.kind === 'counts' && d.d !== 0) return `a counts round has d = 0, not ${d.d}`;
  if (!Number.isSafeInteger(d.groups) || d.groups < 1) return `groups = ${String(d.groups)}: must be an integer ≥ 1`;
  if (!Array.isArray(d.slices) || d.slices.length < 1) return 'slices: must hold at least one centroid set';
  for (const [s, slice] of d.slices.entries()) {
    if (!Array.isArray(slice) || slice.length !== d.k) return `slices[${s}] holds ${Array.isArray(slice) ? slice.length : 'no'} centroids, k = ${d.k}`;
    for (const row of slice) if (!Array.isArray(row) || row.length !== d.d) return `slices[${s}] has a centroid of ${Array.isArray(row) ? row.length : 'no'} coordinates, d = ${d.d}`;
  }
  return null;
}

function encodingProblem(d: RoundDescriptor): string | null {
  const bound = d.encoding?.bound;
  if (typeof bound !== 'number' || !Number.isSafeInteger(bound) || bound < 1 || bound > MAX_ENCODING_BOUND) return `encoding.bound = ${String(bound)}: must be an integer in [1, ${MAX_ENCODING_BOUND}]`;
  if (d.kind === 'counts' && bound !== 1) return `a counts round has encoding.bound = 1 (one-hot 0/1 entries), not ${bound}`;
  return null;
}

/**
 * Which releases one device can be part of at most once: each k-means round, and one
 * counts round per (measure, week) whatever the model version (the device marks the week
 * per measure, and its own ledger charges any further one), so several versions' rounds
 * of one week compose in parallel.
 */
function releaseKey(r: AcceptedRoundCharge): string {
  return r.kind === 'counts' && r.period ? `counts:${r.measure ?? 'segment'}:${r.period}` : `round:${r.round_id}`;
}

/**
 * ε of `rounds` for one device: per release key the largest ε and ρ, then the smaller of
 * Σ ε and the zCDP composition of Σ ρ at δ = BUDGET_DELTA, as the device's own ledger
 * counts. ρ of a round is that of the discrete Gaussian calibrated for its (ε, δ), δ
 * charged at no less than BUDGET_DELTA.
 */
function composedEpsilon(rounds: readonly AcceptedRoundCharge[]): number {
  const byKey = new Map<string, { epsilon: number; rho: number }>();
  for (const r of rounds) {
    const rho = rhoForEpsilon(r.epsilon, Math.min(0.5, Math.max(r.delta, BUDGET_DELTA)));
    const seen = byKey.get(releaseKey(r));
    byKey.set(releaseKey(r), { epsilon: Math.max(seen?.epsilon ?? 0, r.epsilon), rho: Math.max(seen?.rho ?? 0, rho) });
  }
  const parts = [...byKey.values()];
  const epsilon = parts.reduce((sum, p) => sum + p.epsilon, 0);
  return parts.length ? Math.min(epsilon, zcdpToEpsilon(parts.reduce((sum, p) => sum + p.rho, 0), BUDGET_DELTA)) : 0;
}

/**
 * The worst 30-day window the new round falls in, with the new round charged: every window
 * ending at its close or at the close of a later accepted round of the same budget kind
 * less than 30 days after it (a round accepted earlier but closing later must not be
 * pushed over budget by this one either). `before` is that window without the new round.
 */
function worstWindow(d: RoundDescriptor, accepted: readonly AcceptedRoundCharge[]): { end: number; before: number; after: number } {
  const kind = budgetKindOf(d.kind);
  const same = accepted.filter((r) => r.round_id !== d.round_id && budgetKindOf(r.kind) === kind);
  const ends = [d.closes_at, ...same.map((r) => r.closes_at).filter((c) => c > d.closes_at && c - BUDGET_WINDOW_S < d.closes_at)];
  const charge = roundCharge(d);
  let worst = { end: d.closes_at, before: 0, after: -1 };
  for (const end of ends) {
    const inWindow = same.filter((r) => r.closes_at > end - BUDGET_WINDOW_S && r.closes_at <= end);
    const after = composedEpsilon([...inWindow, charge]);
    if (after > worst.after) worst = { end, before: composedEpsilon(inWindow), after };
  }
  return worst;
}

/**
 * Reviews a round the leader asks the helper to serve, against the helper's policy, its
 * clock, its own keys and its 30-day budget, and computes the helper's own σ² from
 * (ε, δ, encoding.bound). The first rule broken is named, with the numbers in `detail`.
 * The budget counts what one device can have spent in any 30 days of the round's kind:
 * the smaller of Σ ε and the zCDP composition, one counts round per (measure, week).
 *
 * @example
 * const review = reviewRound(descriptor, '9/2', policy, { nowS, ownHelperConfigs, acceptedRounds });
 * if (!review.ok) refuse(review.rule, review.detail);
 */
export function reviewRound(d: RoundDescriptor, statedSigma2: string, policy: HelperPolicy, ctx: ReviewContext): RoundReview {
  const refuse = (rule: RoundRule, detail: string): RoundReview => ({ ok: false, rule, detail });
  if (d.mode !== 'secure') return refuse('mode', `the helper serves secure rounds only, not mode ${JSON.stringify(d.mode)}`);
  const shape = shapeProblem(d);
  if (shape) return refuse('shape', shape);
  const encoding = encodingProblem(d);
  if (encoding) return refuse('encoding', encoding);
  const helperKey = d.hpke?.helper;
  if (!helperKey || !ctx.ownHelperConfigs.some((c) => sameHpkeConfig(c, helperKey))) {
    return refuse('helper-key', `hpke.helper (config ${helperKey?.config_id ?? 'none'}) is not one of this helper's keys (${ctx.ownHelperConfigs.map((c) => c.config_id).join(', ') || 'none'})`);
  }
  if (d.hpke.leader?.public_key === helperKey.public_key) return refuse('helper-key', 'hpke.leader and hpke.helper are the same key');
  if (Math.abs(d.opens_at - ctx.nowS) > OPENS_AT_SKEW_S) return refuse('times', `opens_at ${d.opens_at} is ${d.opens_at - ctx.nowS} s from the helper's clock ${ctx.nowS} (at most ±${OPENS_AT_SKEW_S})`);
  if (d.closes_at <= ctx.nowS) return refuse('times', `closes_at ${d.closes_at} is not after the helper's clock ${ctx.nowS}`);
  const duration = d.closes_at - d.opens_at;
  if (duration > policy.max_duration_s) return refuse('max-duration', `the round lasts ${duration} s, policy allows at most ${policy.max_duration_s} s`);
  if (!Number.isSafeInteger(d.min_batch) || d.min_batch < policy.min_batch) return refuse('min-batch', `min_batch ${String(d.min_batch)} is under the helper's minimum batch of ${policy.min_batch}`);
  if (!(d.epsilon > 0) || d.epsilon > policy.max_epsilon) return refuse('max-epsilon', `ε ${d.epsilon} is over the helper's maximum of ${policy.max_epsilon} per round`);
  if (!(d.delta > 0) || d.delta > policy.max_delta) return refuse('max-delta', `δ ${d.delta} is not in (0, ${policy.max_delta}]`);
  if (d.groups > policy.max_groups) return refuse('max-groups', `${d.groups} groups, policy allows at most ${policy.max_groups}`);
  if (d.slices.length > policy.max_slices) return refuse('max-slices', `${d.slices.length} slices, policy allows at most ${policy.max_slices}`);
  const own = sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound);
  const stated = parseSigma2(statedSigma2);
  if (!stated || stated.num * own.den !== own.num * stated.den) {
    return refuse('sigma2', `stated σ² ${JSON.stringify(statedSigma2)} differs from the helper's ${formatSigma2(own)} for ε ${d.epsilon}, δ ${d.delta}, sensitivity ${d.encoding.bound}`);
  }
  const kind = budgetKindOf(d.kind);
  const budget = kind === 'training' ? policy.budget_training : policy.budget_measurement;
  const window = worstWindow(d, ctx.acceptedRounds);
  if (window.after > budget + BUDGET_TOLERANCE) {
    return refuse('budget', `${kind} ε in the 30 days to ${window.end} would be ${window.after.toFixed(3)} with this round (${window.before.toFixed(3)} without it; the smaller of Σ ε and zCDP at δ = ${BUDGET_DELTA}), over the helper's budget of ${budget}`);
  }
  return { ok: true, sigma2: formatSigma2(own) };
}
