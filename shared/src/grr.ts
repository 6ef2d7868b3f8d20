/**
 * Generalised (k-ary) randomized response: the device reports its true segment with
 * probability p = e^ε / (e^ε + k − 1), otherwise one of the other k − 1 uniformly.
 * The aggregator inverts the channel to estimate counts.
 */
import { cryptoRandom, randomBelow, randomFraction, type RandomSource } from './random.ts';

/**
 * Probabilities of reporting the true value (p) and any one specific other value (q).
 *
 * @example
 * grrProbabilities(4, Math.log(3)) // { p: 0.5, q: 0.1666… }
 */
export function grrProbabilities(k: number, epsilon: number): { p: number; q: number } {
  const e = Math.exp(epsilon);
  return { p: e / (e + k - 1), q: 1 / (e + k - 1) };
}

/**
 * Randomizes `value` ∈ [0, k) under ε-local differential privacy.
 *
 * @example
 * const reported = grrEncode(trueSegment, manifest.k, manifest.epsilon.report);
 */
export function grrEncode(value: number, k: number, epsilon: number, random: RandomSource = cryptoRandom): number {
  if (!Number.isInteger(value) || value < 0 || value >= k) throw new RangeError(`grrEncode: value ${value} outside [0, ${k})`);
  if (k === 1) return 0;
  const { p } = grrProbabilities(k, epsilon);
  if (randomFraction(random) < p) return value;
  const other = randomBelow(k - 1, random);
  return other >= value ? other + 1 : other;
}

/** Unbiased count estimates with their standard errors. */
export interface GrrEstimate {
  estimate: number[];
  stdError: number[];
}

/**
 * Debiases observed report counts: n̂ᵥ = (cᵥ − n·q) / (p − q), with the standard error
 * of that estimator (√(n·q(1−q)/(p−q)² + n̂ᵥ(1−p−q)/(p−q)), n̂ᵥ clamped at 0 inside it).
 *
 * @example
 * grrDebias([120, 30, 25, 25], Math.log(3)).estimate
 */
export function grrDebias(counts: readonly number[], epsilon: number): GrrEstimate {
  const k = counts.length;
  const n = counts.reduce((a, b) => a + b, 0);
  if (k === 1) return { estimate: [n], stdError: [0] };
  const { p, q } = grrProbabilities(k, epsilon);
  const estimate = counts.map((c) => (c - n * q) / (p - q));
  const stdError = estimate.map((est) => Math.sqrt((n * q * (1 - q)) / (p - q) ** 2 + (Math.max(est, 0) * (1 - p - q)) / (p - q)));
  return { estimate, stdError };
}
