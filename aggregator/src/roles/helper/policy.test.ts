import type { HpkeConfig, RoundDescriptor } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HELPER_POLICY, BUDGET_WINDOW_S, formatSigma2, helperPolicyFromVars, mergePolicy, parseSigma2, POLICY_VARS, reviewRound, type AcceptedRoundCharge, type HelperPolicy, type ReviewContext } from './policy.ts';

const NOW = 1_800_000_000;
const HELPER: HpkeConfig = { config_id: 2, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'helper-public-key' };
const LEADER: HpkeConfig = { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'leader-public-key' };
const POLICY: HelperPolicy = { ...DEFAULT_HELPER_POLICY };

function kmeans(overrides: Partial<RoundDescriptor> = {}): RoundDescriptor {
  return {
    round_id: 'r-1', kind: 'kmeans', mode: 'secure', model_version: 1, k: 2, d: 3,
    slices: [[[0, 0, 0], [1, 1, 1]]], groups: 4,
    encoding: { clip: 8, bound: 2048, weights: { coords: 0.9, count: 0.3, sqdist: 0.2, silhouette: 0.1 } },
    epsilon: 1, delta: 1e-9, opens_at: NOW, closes_at: NOW + 3600, min_batch: 100,
    hpke: { leader: LEADER, helper: HELPER },
    ...overrides,
  };
}

function counts(overrides: Partial<RoundDescriptor> = {}): RoundDescriptor {
  return kmeans({ round_id: 'c-2026-W48-v1', kind: 'counts', d: 0, k: 2, slices: [[[], []]], groups: 1, encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } }, period: '2026-W48', ...overrides });
}

/** The σ² the helper itself computes, as the honest leader states it. */
function honestSigma2(d: RoundDescriptor): string {
  return formatSigma2(sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound));
}

const ctx = (acceptedRounds: AcceptedRoundCharge[] = []): ReviewContext => ({ nowS: NOW, ownHelperConfigs: [HELPER], acceptedRounds });

describe('helperPolicyFromVars', () => {
  it('starts from the defaults and takes each HELPER_* var that is set', () => {
    expect(helperPolicyFromVars({})).toEqual(DEFAULT_HELPER_POLICY);
    const p = helperPolicyFromVars({ HELPER_MIN_BATCH: '250', HELPER_MAX_DELTA: '1e-6', HELPER_BUDGET_MEASUREMENT: '4' });
    expect(p).toEqual({ ...DEFAULT_HELPER_POLICY, min_batch: 250, max_delta: 1e-6, budget_measurement: 4 });
  });

  it('throws naming the var that does not parse', () => {
    for (const [name, value] of [['HELPER_MIN_BATCH', '1.5'], ['HELPER_MAX_EPSILON', 'lots'], ['HELPER_MAX_DELTA', '2'], ['HELPER_MAX_GROUPS', '0'], ['HELPER_BUDGET_TRAINING', '-1']] as const) {
      expect(() => helperPolicyFromVars({ [name]: value })).toThrow(name);
    }
  });

  it('has one var per policy field', () => {
    expect(Object.keys(POLICY_VARS).sort()).toEqual(Object.keys(DEFAULT_HELPER_POLICY).sort());
  });
});

describe('mergePolicy', () => {
  it('applies a valid partial patch and keeps the rest', () => {
    expect(mergePolicy(POLICY, { min_batch: 500, max_epsilon: 0.5 })).toEqual({ ok: true, value: { ...POLICY, min_batch: 500, max_epsilon: 0.5 } });
  });

  it('refuses the whole patch for an unknown field or a bad value', () => {
    const r = mergePolicy(POLICY, { min_batch: 0, surprise: 1, max_delta: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.split(':')[0]).sort()).toEqual(['max_delta', 'min_batch', 'surprise']);
    expect(mergePolicy(POLICY, [1]).ok).toBe(false);
    expect(mergePolicy(POLICY, { min_batch: '5' }).ok).toBe(false);
  });
});

describe('parseSigma2', () => {
  it('reads "num/den" and integers, reduced, and nothing else', () => {
    expect(parseSigma2('18/4')).toEqual({ num: 9n, den: 2n });
    expect(parseSigma2('7')).toEqual({ num: 7n, den: 1n });
    for (const bad of ['1e-12', '0/1', '1/0', '-1/2', 'x', 3, null]) expect(parseSigma2(bad)).toBeNull();
  });
});

describe('reviewRound', () => {
  it('accepts a round inside policy and answers the helper’s own σ²', () => {
    const d = kmeans();
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx())).toEqual({ ok: true, sigma2: honestSigma2(d) });
    const c = counts();
    expect(reviewRound(c, honestSigma2(c), POLICY, ctx())).toEqual({ ok: true, sigma2: honestSigma2(c) });
  });

  it('accepts the same σ² written with another denominator (compared as rationals)', () => {
    const d = kmeans();
    const own = sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound);
    expect(reviewRound(d, `${own.num * 3n}/${own.den * 3n}`, POLICY, ctx()).ok).toBe(true);
  });

  const refusals: [string, RoundDescriptor, string | null, ReviewContext | null][] = [
    ['mode', kmeans({ mode: 'local', local_sigma2: 4 }), null, null],
    ['shape', kmeans({ slices: [[[0, 0, 0]]] }), null, null],
    ['shape', kmeans({ slices: [[[0, 0], [1, 1]]] }), null, null],
    ['encoding', counts({ encoding: { clip: 1, bound: 2, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } } }), null, null],
    ['encoding', kmeans({ encoding: { clip: 8, bound: 2.5, weights: { coords: 0.9, count: 0.3, sqdist: 0.2, silhouette: 0.1 } } }), '1/1', null],
    ['helper-key', kmeans({ hpke: { leader: LEADER, helper: { ...HELPER, public_key: 'someone-else' } } }), null, null],
    ['helper-key', kmeans({ hpke: { leader: LEADER } }), null, null],
    ['helper-key', kmeans({ hpke: { leader: { ...LEADER, public_key: HELPER.public_key }, helper: HELPER } }), null, null],
    ['times', kmeans({ opens_at: NOW + 301, closes_at: NOW + 3600 }), null, null],
    ['times', kmeans({ opens_at: NOW - 301 }), null, null],
    ['times', kmeans({ opens_at: NOW - 100, closes_at: NOW }), null, null],
    ['max-duration', kmeans({ closes_at: NOW + DEFAULT_HELPER_POLICY.max_duration_s + 1 }), null, null],
    ['min-batch', kmeans({ min_batch: 1 }), null, null],
    ['max-epsilon', kmeans({ epsilon: 1.5 }), null, null],
    ['max-delta', kmeans({ delta: 1e-6 }), null, null],
    ['max-delta', kmeans({ delta: 0 }), '1/1', null],
    ['max-groups', kmeans({ groups: 17 }), null, null],
    ['max-slices', kmeans({ slices: Array.from({ length: 17 }, () => [[0, 0, 0], [1, 1, 1]]) }), null, null],
    ['sigma2', kmeans(), '1/1000000000000', null],
    ['sigma2', kmeans(), '1e-12', null],
  ];

  it.each(refusals)('refuses by rule %s', (rule, d, stated, context) => {
    const review = reviewRound(d, stated ?? honestSigma2(d), POLICY, context ?? ctx());
    expect(review.ok).toBe(false);
    if (!review.ok) {
      expect(review.rule).toBe(rule);
      expect(review.detail.length).toBeGreaterThan(0);
    }
  });

  it('charges the 30-day budget per kind of round', () => {
    const d = kmeans({ round_id: 'r-3', epsilon: 1 });
    const earlier = (round_id: string, kind: RoundDescriptor['kind'], closes_at: number): AcceptedRoundCharge => ({ round_id, kind, epsilon: 1, closes_at });
    // One training round in the window: 1 + 1 = 2, within the default budget of 2.
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx([earlier('r-1', 'kmeans', NOW - 86_400)])).ok).toBe(true);
    // Two: over budget.
    const over = reviewRound(d, honestSigma2(d), POLICY, ctx([earlier('r-1', 'kmeans', NOW - 86_400), earlier('r-2', 'kmeans', NOW - 2 * 86_400)]));
    expect(over).toMatchObject({ ok: false, rule: 'budget' });
    // Counts rounds charge the other budget; rounds closed 30 days or more before do not count.
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx([earlier('c-1', 'counts', NOW), earlier('c-2', 'counts', NOW), earlier('r-1', 'kmeans', d.closes_at - BUDGET_WINDOW_S)])).ok).toBe(true);
    // A round accepted earlier that closes later shares a window with this one too.
    const later = reviewRound(d, honestSigma2(d), POLICY, ctx([earlier('r-1', 'kmeans', d.closes_at + 10 * 86_400), earlier('r-2', 'kmeans', d.closes_at + 20 * 86_400)]));
    expect(later).toMatchObject({ ok: false, rule: 'budget' });
  });

  it('does not charge a round against itself (the same round id asked again)', () => {
    const d = kmeans({ epsilon: 1 });
    expect(reviewRound(d, honestSigma2(d), { ...POLICY, budget_training: 1 }, ctx([{ round_id: d.round_id, kind: 'kmeans', epsilon: 1, closes_at: d.closes_at }])).ok).toBe(true);
  });
});
