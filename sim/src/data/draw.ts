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

/** One buffer for every uniform draw: the feature stage makes tens of millions of them. */
const WORDS = new Uint32Array(2);

/**
 * A uniform number in [lo, hi): randomFraction's value from the same two words (tested),
 * without its new array per call.
 *
 * @example
 * uniform(2, 5, seededRandom(1))
 */
export function uniform(lo: number, hi: number, random: RandomSource): number {
  random(WORDS);
  const fraction = (((WORDS[0] as number) >>> 5) * 2 ** 26 + ((WORDS[1] as number) >>> 6)) / 2 ** 53;
  return lo + (hi - lo) * fraction;
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
