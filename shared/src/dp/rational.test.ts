import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { RandomBits } from './bits.ts';
import { floorSqrt, rational, rationalToNumber, reduceRational } from './rational.ts';

describe('rational', () => {
  it('turns short decimals given as numbers into the decimal that was meant', () => {
    expect(rational(1.5)).toEqual({ num: 3n, den: 2n });
    expect(rational(0.1)).toEqual({ num: 1n, den: 10n });
    expect(rational(1234.567)).toEqual({ num: 1234567n, den: 1000n });
    expect(rational(4000000.1)).toEqual({ num: 40000001n, den: 10n });
    expect(rational(-2.75)).toEqual({ num: -11n, den: 4n });
    expect(rational(1 / 3)).toEqual({ num: 1n, den: 3n });
    expect(rational(100)).toEqual({ num: 100n, den: 1n });
    expect(rational(2 ** 70)).toEqual({ num: 2n ** 70n, den: 1n });
  });

  it('returns the closest fraction with denominator ≤ maxDen (brute force over every q ≤ 1000)', () => {
    const random = new RandomBits(seededRandom(5));
    for (let i = 0; i < 300; i++) {
      const x = (random.word() / 2 ** 32) * 10 ** ((random.word() % 5) - 1);
      const r = rational(x, 1000n);
      const err = Math.abs(rationalToNumber(r) - x);
      let best = Infinity;
      for (let q = 1; q <= 1000; q++) best = Math.min(best, Math.abs(Math.round(x * q) / q - x));
      expect(r.den <= 1000n).toBe(true);
      expect(err).toBeLessThanOrEqual(best * (1 + 1e-9) + 1e-15);
      expect(err).toBeLessThan(1 / 1001);
    }
    expect(rational(Math.PI, 1000n)).toEqual({ num: 355n, den: 113n });
    const pi = rational(Math.PI);
    expect(pi).toEqual({ num: 3126535n, den: 995207n });
    expect(Math.abs(rationalToNumber(pi) - Math.PI)).toBeLessThan(1e-6);
  });

  it('parses decimal strings exactly, however long', () => {
    expect(rational('1.25e-3')).toEqual({ num: 1n, den: 800n });
    expect(rational('0.1000000000000000000001')).toEqual({ num: 10n ** 21n + 1n, den: 10n ** 22n });
    expect(rational('-12')).toEqual({ num: -12n, den: 1n });
    expect(rational('.5')).toEqual({ num: 1n, den: 2n });
    expect(() => rational('1.2.3')).toThrow(RangeError);
    expect(() => rational('')).toThrow(RangeError);
  });

  it('reduces rationals and bigints to lowest terms with a positive denominator', () => {
    expect(rational({ num: 6n, den: -4n })).toEqual({ num: -3n, den: 2n });
    expect(reduceRational({ num: 0n, den: 7n })).toEqual({ num: 0n, den: 1n });
    expect(rational(5n)).toEqual({ num: 5n, den: 1n });
    expect(() => rational({ num: 1n, den: 0n })).toThrow(RangeError);
    expect(() => rational(Number.NaN)).toThrow(RangeError);
  });

  it('converts back to the nearest float, even for huge terms', () => {
    expect(rationalToNumber({ num: 1n, den: 3n })).toBe(1 / 3);
    expect(rationalToNumber({ num: 10n ** 400n + 1n, den: 3n * 10n ** 399n })).toBeCloseTo(10 / 3, 12);
  });
});

describe('floorSqrt', () => {
  it('is ⌊√n⌋ exactly, also far beyond 2^53', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 99n, 100n, 101n, 2n ** 106n - 1n, 2n ** 106n, 10n ** 40n + 12345n]) {
      const r = floorSqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
    expect(() => floorSqrt(-1n)).toThrow(RangeError);
  });
});
