/**
 * Exact Bernoulli trials: Bernoulli(p) for rational p, and Bernoulli(exp(−γ)) for rational
 * γ ≥ 0 without evaluating exp (Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for
 * Differential Privacy", Algorithm 1). These are the only coins the Laplace and Gaussian
 * samplers toss, so their exactness is the samplers' exactness.
 *
 * Each trial has a Number version, used while every integer involved stays below 2^52
 * (where doubling and comparing doubles is exact), and a BigInt version for the rest;
 * the Number versions hand over to BigInt on their own when a bound would be crossed.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';
import { RandomBits } from './bits.ts';
import { reduceRational, type Rational } from './rational.ts';

/** Largest denominator the Number paths accept: 2·(d − 1) must stay exact (< 2^53). */
export const MAX_EXACT_DENOMINATOR = 2 ** 52;

/**
 * Bernoulli(n/d) for integers n ≥ 0, 1 ≤ d ≤ 2^52, as Numbers. Compares a uniform real
 * U = 0.b₁b₂… (fresh random bits) with the binary expansion of p = n/d, generated exactly by
 * long division; the first differing digit decides U < p. That is exact for any rational
 * p and uses 2 random bits on average, against 32 for a rejection-sampled word.
 *
 * @example
 * bernoulliRatio(new RandomBits(), 1, 3) // true with probability exactly 1/3
 */
export function bernoulliRatio(bits: RandomBits, n: number, d: number): boolean {
  if (n >= d) return true;
  if (n <= 0) return false;
  let r = n;
  for (;;) {
    // Next binary digit of p: double the remainder (< d ≤ 2^52, so 2r < 2^53 is exact).
    r *= 2;
    let digit = 0;
    if (r >= d) {
      digit = 1;
      r -= d;
    }
    // U's digit differs from p's: U < p exactly when p's digit is the 1.
    if (bits.bit() !== digit) return digit === 1;
  }
}

/**
 * Bernoulli(n/d) for BigInts n ≥ 0, d ≥ 1 (same digit-by-digit comparison as `bernoulliRatio`).
 *
 * @example
 * bernoulliRatioBig(new RandomBits(), 1n, 3n ** 40n)
 */
export function bernoulliRatioBig(bits: RandomBits, n: bigint, d: bigint): boolean {
  if (n >= d) return true;
  if (n <= 0n) return false;
  let r = n;
  for (;;) {
    r <<= 1n;
    let digit = 0;
    if (r >= d) {
      digit = 1;
      r -= d;
    }
    if (bits.bit() !== digit) return digit === 1;
  }
}

/**
 * Bernoulli(exp(−1)): CKS20 Algorithm 1 with γ = 1. K counts consecutive successes of
 * Bernoulli(1/k), k = 1, 2, …; P(K ≥ k) = 1/(k−1)!, so P(K odd) = Σ (−1)^j/j! = e^−1.
 * The first trial, Bernoulli(1/1), always succeeds and is skipped.
 *
 * @example
 * bernoulliExpMinusOne(new RandomBits()) // true with probability exactly 1/e
 */
export function bernoulliExpMinusOne(bits: RandomBits): boolean {
  let k = 2;
  while (bernoulliRatio(bits, 1, k)) k++;
  return (k & 1) === 1;
}

/** CKS20 Algorithm 1 for γ = n/d ∈ [0, 1] in BigInt, resuming at trial k. */
function expFractionBig(bits: RandomBits, n: bigint, d: bigint, k: bigint): boolean {
  while (bernoulliRatioBig(bits, n, d * k)) k++;
  return (k & 1n) === 1n;
}

/**
 * Bernoulli(exp(−n/d)) for 0 ≤ n ≤ d ≤ 2^52 (Numbers), CKS20 Algorithm 1: toss
 * Bernoulli(γ/k) for k = 1, 2, … until one fails at k = K; then P(K > k) = γ^k/k! and
 * P(K odd) = Σ_j (−γ)^j/j! = e^−γ. Expected tosses: e^γ ≤ e.
 */
function expFraction(bits: RandomBits, n: number, d: number): boolean {
  let k = 1;
  for (;;) {
    const dk = d * k;
    // γ/k needs denominator d·k; beyond 2^52 (astronomically rare) continue in BigInt.
    if (dk > MAX_EXACT_DENOMINATOR) return expFractionBig(bits, BigInt(n), BigInt(d), BigInt(k));
    if (!bernoulliRatio(bits, n, dk)) return (k & 1) === 1;
    k++;
  }
}

/**
 * Bernoulli(exp(−n/d)) for integers 0 ≤ n ≤ 2^53, 1 ≤ d ≤ 2^52 (Numbers). For γ > 1,
 * CKS20 Algorithm 1 splits e^−γ = (e^−1)^⌊γ⌋ · e^−(γ−⌊γ⌋): ⌊γ⌋ independent Bernoulli(e^−1)
 * that must all succeed (it stops at the first failure, so large γ is cheap), then the
 * fractional part.
 *
 * @example
 * bernoulliExpRatio(new RandomBits(), 5, 2) // true with probability exactly e^−2.5
 */
export function bernoulliExpRatio(bits: RandomBits, n: number, d: number): boolean {
  // `%` on integral doubles is exact, and n − r is a multiple of d, so q is exact too.
  const r = n % d;
  for (let q = (n - r) / d; q > 0; q--) if (!bernoulliExpMinusOne(bits)) return false;
  return expFraction(bits, r, d);
}

/**
 * Bernoulli(exp(−n/d)) for BigInts n ≥ 0, d ≥ 1 (CKS20 Algorithm 1, as `bernoulliExpRatio`).
 *
 * @example
 * bernoulliExpRatioBig(new RandomBits(), 10n ** 20n + 1n, 10n ** 20n) // probability e^−(1+10^−20)
 */
export function bernoulliExpRatioBig(bits: RandomBits, n: bigint, d: bigint): boolean {
  const r = n % d;
  for (let q = n / d; q > 0n; q--) if (!bernoulliExpMinusOne(bits)) return false;
  if (d <= BigInt(MAX_EXACT_DENOMINATOR)) return expFraction(bits, Number(r), Number(d));
  return expFractionBig(bits, r, d, 1n);
}

function checkedRational(x: Rational, what: string): Rational {
  const r = reduceRational(x);
  if (r.num < 0n) throw new RangeError(`${what} must be ≥ 0, got ${r.num}/${r.den}`);
  return r;
}

/**
 * One Bernoulli(p) trial for rational p ∈ [0, 1] (p > 1 counts as 1).
 *
 * @example
 * sampleBernoulli({ num: 1n, den: 3n }) // true with probability exactly 1/3
 */
export function sampleBernoulli(p: Rational, random: RandomSource = cryptoRandom): boolean {
  const { num, den } = checkedRational(p, 'sampleBernoulli: p');
  const bits = new RandomBits(random, 2);
  if (den <= BigInt(MAX_EXACT_DENOMINATOR)) return bernoulliRatio(bits, Number(num < den ? num : den), Number(den));
  return bernoulliRatioBig(bits, num, den);
}

/**
 * One Bernoulli(exp(−γ)) trial for rational γ ≥ 0, without floating point.
 *
 * @example
 * sampleBernoulliExp({ num: 1n, den: 2n }) // true with probability exactly e^−1/2
 */
export function sampleBernoulliExp(gamma: Rational, random: RandomSource = cryptoRandom): boolean {
  const { num, den } = checkedRational(gamma, 'sampleBernoulliExp: γ');
  const bits = new RandomBits(random, 4);
  if (num <= BigInt(Number.MAX_SAFE_INTEGER) && den <= BigInt(MAX_EXACT_DENOMINATOR)) return bernoulliExpRatio(bits, Number(num), Number(den));
  return bernoulliExpRatioBig(bits, num, den);
}
