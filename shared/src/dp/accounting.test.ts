import { describe, expect, it } from 'vitest';
import { composeZcdp, sigma2ForEpsilon, sigma2ForZcdp, zcdpOfDiscreteGaussian, zcdpToDelta, zcdpToEpsilon, zcdpToEpsilonStandard } from './accounting.ts';
import { discreteGaussianLaw } from './distribution.ts';
import { rationalToNumber } from './rational.ts';

/**
 * Reference values re-derived independently: Steinke's published procedure for CKS20
 * Corollary 13 (bisection on α for δ(ρ, ε), then bisection on ε for a target δ; the
 * cdp2adp.py that accompanies the paper), run in Python double precision. Our ε form
 * solves a different equation (the optimal α for ε directly), so agreement checks both.
 */
const REFERENCE: { rho: number; delta: number; epsilon: number }[] = [
  { rho: 0.025, delta: 1e-6, epsilon: 1.014074254726128 },
  { rho: 0.5, delta: 1e-6, epsilon: 5.221534444530169 },
  { rho: 2, delta: 1e-9, epsilon: 14.150147553874598 },
  { rho: 0.001, delta: 1e-5, epsilon: 0.15733539316121553 },
];

describe('zCDP of the discrete Gaussian and composition', () => {
  it('is ρ = Δ²/(2σ²) for L2 sensitivity Δ, whatever the dimension', () => {
    expect(zcdpOfDiscreteGaussian(1, { num: 2n, den: 1n })).toBe(0.25);
    expect(zcdpOfDiscreteGaussian(100, 5000)).toBe(1);
    expect(zcdpOfDiscreteGaussian(3, { num: 9n, den: 2n })).toBe(1);
    expect(() => zcdpOfDiscreteGaussian(1, 0)).toThrow(RangeError);
  });

  it('composes by adding ρ', () => {
    expect(composeZcdp([0.05, 0.05, 0.1])).toBeCloseTo(0.2, 15);
    expect(composeZcdp([])).toBe(0);
    expect(() => composeZcdp([0.1, -0.1])).toThrow(RangeError);
  });
});

describe('zCDP → (ε, δ): CKS20 Corollary 13', () => {
  it('matches the independently re-derived reference values to 1e-9', () => {
    for (const { rho, delta, epsilon } of REFERENCE) {
      expect(Math.abs(zcdpToEpsilon(rho, delta) / epsilon - 1)).toBeLessThan(1e-9);
    }
    // The δ form at a reference point of cdp2adp.py's own demo.
    expect(Math.abs(zcdpToDelta(0.025, 1) / 1.3361319064032213e-6 - 1)).toBeLessThan(1e-9);
  });

  it('ε and δ forms are inverses of each other', () => {
    for (const rho of [0.001, 0.02, 0.5, 3]) {
      for (const delta of [1e-3, 1e-6, 1e-10]) {
        const epsilon = zcdpToEpsilon(rho, delta);
        expect(Math.abs(zcdpToDelta(rho, epsilon) / delta - 1)).toBeLessThan(1e-7);
      }
    }
  });

  it('is the infimum over α: no α on a fine grid does better', () => {
    const rho = 0.3;
    const delta = 1e-7;
    const bound = (a: number) => a * rho + Math.log1p(-1 / a) + (Math.log(1 / delta) - Math.log(a)) / (a - 1);
    let best = Infinity;
    for (let a = 1.001; a < 60; a += 0.001) best = Math.min(best, bound(a));
    const ours = zcdpToEpsilon(rho, delta);
    expect(ours).toBeLessThanOrEqual(best + 1e-12);
    expect(best - ours).toBeLessThan(1e-6);
  });

  it('is never looser than the standard ρ + 2√(ρ ln 1/δ), and clearly tighter for moderate ρ', () => {
    for (const rho of [1e-4, 0.01, 0.1, 0.5, 2, 10]) {
      for (const delta of [1e-3, 1e-6, 1e-9, 1e-12]) {
        expect(zcdpToEpsilon(rho, delta)).toBeLessThanOrEqual(zcdpToEpsilonStandard(rho, delta));
      }
    }
    expect(zcdpToEpsilonStandard(0.5, 1e-6)).toBeCloseTo(5.7565, 3);
    expect(zcdpToEpsilon(0.5, 1e-6)).toBeLessThan(0.91 * zcdpToEpsilonStandard(0.5, 1e-6));
  });

  it('is a valid bound for the discrete Gaussian’s exact (ε, δ) curve (CKS20 Theorem 7), and not a loose one', () => {
    // Exact δ of adding N_Z(0, σ²) to an integer query of sensitivity Δ:
    // δ = P[X > εσ²/Δ − Δ/2] − e^ε·P[X > εσ²/Δ + Δ/2], X ~ N_Z(0, σ²).
    for (const [sigma2, epsilon, sensitivity] of [[0.5, 3, 1], [2, 2, 1], [50, 0.5, 1], [400, 1, 4], [1e4, 0.05, 10]] as const) {
      const law = discreteGaussianLaw(sigma2);
      const above = (k: number) => law.tail(k) / 2; // P(X > k) for k ≥ 0, by symmetry
      const exact = above((epsilon * sigma2) / sensitivity - sensitivity / 2) - Math.exp(epsilon) * above((epsilon * sigma2) / sensitivity + sensitivity / 2);
      const bound = zcdpToDelta(zcdpOfDiscreteGaussian(sensitivity, sigma2), epsilon);
      expect(exact).toBeGreaterThan(0);
      expect(bound).toBeGreaterThanOrEqual(exact);
      if (sigma2 >= 2) expect(bound).toBeLessThan(10 * exact);
    }
  });

  it('handles the edges: ρ = 0 costs nothing, δ ≥ 1 allows anything', () => {
    expect(zcdpToEpsilon(0, 1e-6)).toBe(0);
    expect(zcdpToDelta(0, 1)).toBe(0);
    expect(zcdpToEpsilon(1, 1)).toBe(0);
    expect(() => zcdpToEpsilon(1, 0)).toThrow(RangeError);
  });
});

describe('σ² for a privacy target', () => {
  it('sigma2ForEpsilon meets (ε, δ) and is within 10^-5 of the smallest σ² that does', () => {
    for (const [epsilon, delta, sensitivity, reference] of [
      [1, 1e-9, 1, 33.39331290241182],
      [1, 1e-6, 1000, 20528847.449684475],
      [8, 1e-9, 1, 0.6822834178096748],
    ] as const) {
      const sigma2 = sigma2ForEpsilon(epsilon, delta, sensitivity);
      const value = rationalToNumber(sigma2);
      // Reference: Δ²/(2ρ*) with ρ* from cdp2adp.py's cdp_rho (bisection on ρ; ours bisects σ²).
      expect(Math.abs(value / reference - 1)).toBeLessThan(1e-5);
      expect(zcdpToEpsilon(zcdpOfDiscreteGaussian(sensitivity, sigma2), delta)).toBeLessThanOrEqual(epsilon);
      expect(zcdpToEpsilon(zcdpOfDiscreteGaussian(sensitivity, value * (1 - 1e-5)), delta)).toBeGreaterThan(epsilon);
    }
  });

  it('returns small rationals the sampler handles on its fast path (integers from 10^6 up)', () => {
    expect(sigma2ForEpsilon(1, 1e-6, 1000).den).toBe(1n);
    const small = sigma2ForEpsilon(1, 1e-9, 1);
    expect(small.den <= 10n ** 7n).toBe(true);
  });

  it('sigma2ForZcdp inverts ρ = Δ²/(2σ²), rounding σ² up', () => {
    expect(sigma2ForZcdp(0.125, 1)).toEqual({ num: 4n, den: 1n });
    const sigma2 = sigma2ForZcdp(0.01, 7);
    expect(zcdpOfDiscreteGaussian(7, sigma2)).toBeLessThanOrEqual(0.01);
    expect(rationalToNumber(sigma2)).toBeCloseTo(2450, 9);
  });

  it('refuses targets that cannot be met', () => {
    expect(() => sigma2ForEpsilon(0, 1e-6, 1)).toThrow(RangeError);
    expect(() => sigma2ForEpsilon(1, 0, 1)).toThrow(RangeError);
    expect(() => sigma2ForEpsilon(1, 1e-6, 0)).toThrow(RangeError);
  });
});
