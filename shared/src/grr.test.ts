import { describe, expect, it } from 'vitest';
import { grrDebias, grrEncode, grrProbabilities } from './grr.ts';
import { cryptoRandom, seededRandom } from './random.ts';

/** Upper 0.999 quantiles of χ² for small degrees of freedom. */
const CHI2_999: Record<number, number> = { 3: 16.27, 7: 24.32 };
/** 0.99999 quantile, for live (crypto) sources that draw anew every run: a correct encoder fails 1 run in 100,000. */
const CHI2_3_99999 = 25.9;

function counts(k: number, n: number, draw: () => number): number[] {
  const h = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const v = draw();
    h[v] = (h[v] as number) + 1;
  }
  return h;
}

function chiSquare(observed: number[], expected: number[]): number {
  return observed.reduce((acc, o, i) => acc + (o - (expected[i] as number)) ** 2 / (expected[i] as number), 0);
}

describe('generalised randomized response', () => {
  it('has p = e^ε/(e^ε+k−1) and q = 1/(e^ε+k−1), so p/q = e^ε', () => {
    const { p, q } = grrProbabilities(4, Math.log(3));
    expect(p).toBeCloseTo(0.5, 12);
    expect(q).toBeCloseTo(1 / 6, 12);
    expect(p + 3 * q).toBeCloseTo(1, 12);
  });

  it('reports with the exact channel probabilities (χ² goodness of fit, seeded source)', () => {
    for (const [k, epsilon] of [[4, 1], [8, 2]] as const) {
      const n = 200_000;
      const random = seededRandom(1234 + k);
      const observed = counts(k, n, () => grrEncode(2, k, epsilon, random));
      const { p, q } = grrProbabilities(k, epsilon);
      const expected = observed.map((_, v) => n * (v === 2 ? p : q));
      expect(chiSquare(observed, expected)).toBeLessThan(CHI2_999[k - 1] as number);
    }
  });

  it('reports with the channel probabilities from crypto.getRandomValues too', () => {
    const n = 50_000;
    const observed = counts(4, n, () => grrEncode(0, 4, 1, cryptoRandom));
    const { p, q } = grrProbabilities(4, 1);
    expect(chiSquare(observed, [n * p, n * q, n * q, n * q])).toBeLessThan(CHI2_3_99999);
  });

  it('debiases to the true counts on average, within the stated standard error', () => {
    const truth = [5000, 2500, 1500, 1000];
    const k = truth.length;
    const epsilon = 1;
    const random = seededRandom(99);
    const trials = 40;
    const mean = new Array<number>(k).fill(0);
    let within = 0;
    for (let t = 0; t < trials; t++) {
      const observed = new Array<number>(k).fill(0);
      truth.forEach((n, v) => {
        for (let i = 0; i < n; i++) {
          const r = grrEncode(v, k, epsilon, random);
          observed[r] = (observed[r] as number) + 1;
        }
      });
      const { estimate, stdError } = grrDebias(observed, epsilon);
      estimate.forEach((e, v) => {
        mean[v] = (mean[v] as number) + e / trials;
        if (Math.abs(e - (truth[v] as number)) <= 1.96 * (stdError[v] as number)) within++;
      });
    }
    // Unbiased: the mean of 40 estimates sits within 4 standard errors of the mean.
    const { stdError } = grrDebias(truth.map((n) => n), epsilon);
    mean.forEach((m, v) => expect(Math.abs(m - (truth[v] as number))).toBeLessThan((4 * (stdError[v] as number)) / Math.sqrt(trials)));
    // Calibrated: about 95% of 95% intervals cover the truth (160 intervals → ≥ 85% is a loose, safe bound).
    expect(within / (trials * k)).toBeGreaterThan(0.85);
  });

  it('refuses a value outside the domain', () => {
    expect(() => grrEncode(4, 4, 1)).toThrow(RangeError);
  });
});
