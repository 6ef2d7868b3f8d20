/** Small seeded draws for the simulator (never used for a device's real randomness). */
import { randomFraction, type RandomSource } from '@edgeseg/shared';

/**
 * An index drawn with probability ∝ weights.
 *
 * @example
 * pick([0.5, 0.5], seededRandom(1)) // 0 or 1
 */
export function pick(weights: readonly number[], random: RandomSource): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = randomFraction(random) * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/**
 * A uniform number in [lo, hi).
 *
 * @example
 * uniform(2, 5, seededRandom(1))
 */
export function uniform(lo: number, hi: number, random: RandomSource): number {
  return lo + (hi - lo) * randomFraction(random);
}

/**
 * A Poisson draw (Knuth; fine for the small means used here).
 *
 * @example
 * poisson(3, seededRandom(1))
 */
export function poisson(mean: number, random: RandomSource): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = randomFraction(random);
  while (p > limit) {
    k++;
    p *= randomFraction(random);
  }
  return k;
}
