import { describe, expect, it } from 'vitest';
import { discreteGaussianLaw, discreteLaplaceLaw } from './distribution.ts';

/** Brute-force moments of a pmf over [−reach, reach]. */
function brute(pmf: (x: number) => number, reach: number) {
  let total = 0;
  let m2 = 0;
  let m4 = 0;
  for (let x = -reach; x <= reach; x++) {
    const p = pmf(x);
    total += p;
    m2 += x * x * p;
    m4 += x ** 4 * p;
  }
  return { total, m2, m4 };
}

describe('exact noise laws', () => {
  it('discrete Gaussian: normalised, symmetric, and close to σ√(2π) normalisation for large σ', () => {
    for (const sigma2 of [0.25, 0.5, 4, 100, 1e4]) {
      const law = discreteGaussianLaw(sigma2);
      const reach = Math.ceil(40 * Math.sqrt(sigma2)) + 2;
      const b = brute(law.pmf, reach);
      expect(b.total).toBeCloseTo(1, 12);
      expect(b.m2).toBeCloseTo(law.variance, 9);
      expect(b.m4 / law.fourthMoment).toBeCloseTo(1, 9);
      expect(law.pmf(3)).toBe(law.pmf(-3));
      expect(law.tail(-1)).toBeCloseTo(1, 12);
      expect(law.tail(0)).toBeCloseTo(1 - law.pmf(0), 12);
    }
    // For σ = 100 the pmf at 0 is 1/(σ√(2π)) to double precision.
    expect(discreteGaussianLaw(1e4).pmf(0)).toBeCloseTo(1 / (100 * Math.sqrt(2 * Math.PI)), 14);
    // Small σ: the variance falls visibly below σ².
    expect(discreteGaussianLaw(0.25).variance).toBeCloseTo(0.2150127, 6);
  });

  it('discrete Laplace: closed forms agree with brute-force sums', () => {
    for (const scale of [0.5, 1, 1.5, 10, 1000 / 7]) {
      const law = discreteLaplaceLaw(scale);
      const b = brute(law.pmf, Math.ceil(80 * scale) + 10);
      expect(b.total).toBeCloseTo(1, 12);
      expect(b.m2 / law.variance).toBeCloseTo(1, 9);
      expect(b.m4 / law.fourthMoment).toBeCloseTo(1, 9);
      let tail = 0;
      for (let x = 4; x <= Math.ceil(80 * scale) + 10; x++) tail += 2 * law.pmf(x);
      expect(law.tail(3.5) / tail).toBeCloseTo(1, 9);
    }
    expect(discreteLaplaceLaw(1).variance).toBeCloseTo((2 * Math.E) / (Math.E - 1) ** 2, 12);
  });
});
