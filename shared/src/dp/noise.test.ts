import { describe, expect, it } from 'vitest';
import { cryptoRandom, seededRandom } from '../random.ts';
import { discreteGaussianLaw } from './distribution.ts';
import { discreteGaussianSampler } from './gaussian.ts';
import { addDiscreteGaussianNoise } from './noise.ts';

const SIGMA2 = { num: 10_000n, den: 1n }; // σ = 100

describe('addDiscreteGaussianNoise', () => {
  it('adds the sampler’s draws entry by entry, mod 2^32, in place', () => {
    const input = [0, 1, 50, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32 - 40, 12345];
    const vector = Uint32Array.from(input);
    const same = addDiscreteGaussianNoise(vector, SIGMA2, seededRandom(77));
    expect(same).toBe(vector);
    const noise = discreteGaussianSampler(SIGMA2, seededRandom(77));
    let wrappedDown = 0;
    let wrappedUp = 0;
    input.forEach((v, i) => {
      const n = noise();
      const expected = (((v + n) % 2 ** 32) + 2 ** 32) % 2 ** 32; // the definition, in plain arithmetic
      expect(vector[i]).toBe(expected);
      if (v + n < 0) wrappedDown++;
      if (v + n >= 2 ** 32) wrappedUp++;
    });
    // The seed is chosen so both directions of wrapping actually happen above.
    expect(wrappedDown).toBeGreaterThan(0);
    expect(wrappedUp).toBeGreaterThan(0);
  });

  it('leaves shares that still sum to the true total plus the noise, mod 2^32', () => {
    const truth = Uint32Array.from([7, 0, 4_000_000_000, 123]);
    const mask = Uint32Array.from([4_294_967_000, 17, 999, 2 ** 31]);
    const leader = truth.map((t, i) => (t - (mask[i] as number)) >>> 0);
    const helper = Uint32Array.from(mask);
    addDiscreteGaussianNoise(leader, SIGMA2, seededRandom(1));
    const noise = discreteGaussianSampler(SIGMA2, seededRandom(1));
    for (let i = 0; i < truth.length; i++) {
      const total = ((leader[i] as number) + (helper[i] as number)) >>> 0;
      // Decode as a signed difference from the truth: the noise itself.
      expect((total - (truth[i] as number)) | 0).toBe(noise());
    }
  });

  it('puts independent N_Z(0, σ²) noise on every entry (200,000 entries from crypto.getRandomValues)', () => {
    const n = 200_000;
    const vector = addDiscreteGaussianNoise(new Uint32Array(n), SIGMA2, cryptoRandom);
    const law = discreteGaussianLaw(SIGMA2);
    let sum = 0;
    let sumSq = 0;
    let lagProduct = 0;
    for (let i = 0; i < n; i++) {
      const x = (vector[i] as number) | 0; // the share mod 2^32, read as a signed offset
      sum += x;
      sumSq += x * x;
      if (i > 0) lagProduct += x * ((vector[i - 1] as number) | 0);
    }
    // A live source draws anew every run: 5σ bounds keep a correct sampler's false alarms under 1 in 500,000 runs.
    expect(Math.abs(sum / n)).toBeLessThan(5 * Math.sqrt(law.variance / n));
    expect(Math.abs(sumSq / n - law.variance)).toBeLessThan(5 * Math.sqrt((law.fourthMoment - law.variance ** 2) / n));
    // Neighbouring entries uncorrelated: lag-1 correlation within 5/√n of 0.
    expect(Math.abs(lagProduct / (n - 1) / law.variance)).toBeLessThan(5 / Math.sqrt(n));
  });

  it('does nothing to an empty vector and refuses σ² ≤ 0', () => {
    expect(addDiscreteGaussianNoise(new Uint32Array(0), SIGMA2).length).toBe(0);
    expect(() => addDiscreteGaussianNoise(new Uint32Array(3), { num: 0n, den: 1n })).toThrow(RangeError);
  });
});
