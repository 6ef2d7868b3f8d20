import { describe, expect, it } from 'vitest';
import { seededRandom, standardNormal } from './random.ts';

describe('standardNormal', () => {
  it('draws mean 0, variance 1 and the normal tail mass', () => {
    const random = seededRandom(11);
    const n = 40_000;
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = standardNormal(random);
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    const mean = sum / n;
    // Bounds at about 5 standard errors of each estimate for n draws.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sumSq / n - mean * mean - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // P(|Z| > 2) = 0.0455 for a standard normal.
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(5 * Math.sqrt((0.0455 * 0.9545) / n));
  });

  it('is reproducible from a seeded source', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    const first = Array.from({ length: 5 }, () => standardNormal(a));
    expect(Array.from({ length: 5 }, () => standardNormal(b))).toEqual(first);
    expect(first.every(Number.isFinite)).toBe(true);
  });
});
