import type { HpkeConfig, RoundDescriptor } from '@edgeseg/shared';
import { rhoForEpsilon, sigma2ForEpsilon, zcdpToEpsilon } from '@edgeseg/shared/dp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HELPER_POLICY, BUDGET_WINDOW_S, formatSigma2, helperPolicyFromVars, mergePolicy, parseSigma2, POLICY_VARS, reviewRound, roundCharge, type AcceptedRoundCharge, type HelperPolicy, type ReviewContext } from './policy.ts';

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

  it('charges the 30-day budget per kind of round, composed as the device composes (smaller of Σ ε and zCDP)', () => {
    const d = kmeans({ round_id: 'r-new', epsilon: 1 });
    const earlier = (round_id: string, kind: RoundDescriptor['kind'], closes_at: number): AcceptedRoundCharge => roundCharge(kind === 'kmeans' ? kmeans({ round_id, closes_at }) : counts({ round_id, closes_at, period: round_id }));
    // How many ε = 1 training rounds one device can be in within 2 ε, composed under zCDP at δ = 1e-9.
    const fit = Array.from({ length: 10 }, (_, n) => n + 1).filter((n) => Math.min(n, zcdpToEpsilon(n * rhoForEpsilon(1, 1e-9), 1e-9)) <= 2 + 1e-9).length;
    expect(fit).toBeGreaterThanOrEqual(2); // plain Σ ε would stop at 2
    const rounds = (n: number) => Array.from({ length: n }, (_, i) => earlier(`r-${i}`, 'kmeans', NOW - (i + 1) * 86_400));
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx(rounds(fit - 1))).ok).toBe(true);
    const over = reviewRound(d, honestSigma2(d), POLICY, ctx(rounds(fit)));
    expect(over).toMatchObject({ ok: false, rule: 'budget' });
    if (!over.ok) expect(over.detail).toMatch(/zCDP/);
    // Counts rounds charge the other budget; rounds closed 30 days or more before do not count.
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx([...rounds(fit - 2), earlier('2026-W40', 'counts', NOW), earlier('2026-W41', 'counts', NOW), earlier('r-old', 'kmeans', d.closes_at - BUDGET_WINDOW_S)])).ok).toBe(true);
    // Rounds accepted earlier that close later share a window with this one too.
    const later = Array.from({ length: fit }, (_, i) => earlier(`r-l${i}`, 'kmeans', d.closes_at + (i + 1) * 86_400));
    expect(reviewRound(d, honestSigma2(d), POLICY, ctx(later))).toMatchObject({ ok: false, rule: 'budget' });
  });

  it('fits five weeks of segment, lifecycle and impression counts rounds (0.4, 0.3, 0.3) in the default 2 ε per 30 days', () => {
    const WEEK = 7 * 86_400;
    const weeks = ['2026-W44', '2026-W45', '2026-W46', '2026-W47'];
    const accepted = weeks.flatMap((period, w) =>
      (['segment', 'lifecycle', 'impressions'] as const).map((measure) =>
        roundCharge(counts({ round_id: `c-${period}-v1-${measure}`, period, epsilon: measure === 'segment' ? 0.4 : 0.3, closes_at: NOW - (4 - w) * WEEK + 3600, ...(measure === 'segment' ? {} : { measure }) })),
      ),
    );
    for (const [measure, epsilon] of [['segment', 0.4], ['lifecycle', 0.3], ['impressions', 0.3]] as const) {
      const d = counts({ round_id: `c-2026-W48-v1-${measure}`, epsilon, ...(measure === 'segment' ? {} : { measure }) });
      expect(reviewRound(d, honestSigma2(d), POLICY, ctx(accepted)).ok).toBe(true);
    }
    // By plain sums the same weeks would be 5 × 1.0 = 5 ε: the budget counts the composition.
    expect(accepted.reduce((sum, r) => sum + r.epsilon, 0) + 0.4).toBeGreaterThan(POLICY.budget_measurement);
  });

  it('charges the counts rounds of one week and measure once, whatever the model version (a device joins one)', () => {
    const policy = { ...POLICY, budget_measurement: 1 };
    const versions = [1, 2, 3, 4, 5].map((v) => roundCharge(counts({ round_id: `c-2026-W48-v${v}`, model_version: v, epsilon: 1 })));
    const d = counts({ round_id: 'c-2026-W48-v6', model_version: 6, epsilon: 1 });
    expect(reviewRound(d, honestSigma2(d), policy, ctx(versions)).ok).toBe(true);
    // Another measure of the same week is another release.
    const stages = counts({ round_id: 'c-2026-W48-v6-lifecycle', model_version: 6, epsilon: 1, measure: 'lifecycle' });
    expect(reviewRound(stages, honestSigma2(stages), policy, ctx(versions))).toMatchObject({ ok: false, rule: 'budget' });
  });

  it('does not charge a round against itself (the same round id asked again)', () => {
    const d = kmeans({ epsilon: 1 });
    expect(reviewRound(d, honestSigma2(d), { ...POLICY, budget_training: 1 }, ctx([roundCharge(d)])).ok).toBe(true);
  });
});
