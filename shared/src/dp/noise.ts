/**
 * Central noise on an additive share. Each aggregator holds a share of the round's total,
 * mod 2^32; adding an independent N_Z(0, σ²) to every entry before the share leaves the
 * aggregator means the sum of both released shares is the total plus (at least) one
 * aggregator's full discrete Gaussian noise, whatever the other aggregator does.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';
import { discreteGaussianSampler } from './gaussian.ts';
import type { Rational } from './rational.ts';

const TWO_32 = 2 ** 32;

/**
 * Adds an independent exact N_Z(0, σ²) sample to every entry of `vector`, in place,
 * mod 2^32 (negative noise wraps: −1 becomes 2^32 − 1, which is what an additive share
 * mod 2^32 needs), and returns the same vector.
 *
 * @example
 * addDiscreteGaussianNoise(aggregateShare, sigma2ForEpsilon(1, 1e-9, encoding.bound));
 */
export function addDiscreteGaussianNoise(vector: Uint32Array, sigma2: Rational, random: RandomSource = cryptoRandom): Uint32Array {
  const noise = discreteGaussianSampler(sigma2, random);
  for (let i = 0; i < vector.length; i++) {
    // n % 2^32 is exact for any safe integer n, so v + (n % 2^32) is an exact integer of
    // magnitude < 2^33, and `>>> 0` reduces it mod 2^32 exactly (negative values wrap).
    vector[i] = ((vector[i] as number) + (noise() % TWO_32)) >>> 0;
  }
  return vector;
}
