/**
 * Exact discrete Laplace sampler (Canonne, Kamath & Steinke 2020, Algorithm 2):
 * Lap_Z(scale) has P(X = x) = (1 − q)/(1 + q) · q^|x| with q = e^(−1/scale), x ∈ ℤ.
 * It is both a DP mechanism on its own (ε = Δ/scale for integer queries) and the proposal
 * distribution of the discrete Gaussian sampler.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';
import { bernoulliExpMinusOne, bernoulliExpRatio, bernoulliExpRatioBig } from './bernoulli.ts';
import { RandomBits } from './bits.ts';
import { reduceRational, type Rational } from './rational.ts';

const TWO_32 = 2 ** 32;

/**
 * One Lap_Z(t/s) sample for integers 1 ≤ t ≤ 2^32, 1 ≤ s < 2^53 (Numbers), CKS20 Algorithm 2:
 * draw U uniform in [0, t) and keep it with probability e^(−U/t), draw V ~ Geometric with
 * P(V ≥ v) = e^−v, so X = U + t·V is geometric with ratio e^(−1/t); Y = ⌊X/s⌋ is then
 * geometric with ratio e^(−s/t); a random sign (rejecting "−0", which would double the
 * mass at 0) makes it two-sided.
 *
 * @example
 * discreteLaplaceFromBits(new RandomBits(), 3, 2) // a Lap_Z(1.5) sample
 */
export function discreteLaplaceFromBits(bits: RandomBits, t: number, s: number): number {
  for (;;) {
    const u = bits.below(t);
    if (!bernoulliExpRatio(bits, u, t)) continue;
    let v = 0;
    while (bernoulliExpMinusOne(bits)) v++;
    // v ≥ 2^21 would be needed to leave the safe range: probability e^(−2^21).
    const x = u + t * v;
    const y = s === 1 ? x : (x - (x % s)) / s;
    const negative = bits.bit() === 1;
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/**
 * One Lap_Z(t/s) sample for any BigInts t, s ≥ 1 (CKS20 Algorithm 2, as above).
 *
 * @example
 * discreteLaplaceFromBitsBig(new RandomBits(), 10n ** 12n, 7n)
 */
export function discreteLaplaceFromBitsBig(bits: RandomBits, t: bigint, s: bigint): bigint {
  for (;;) {
    const u = bits.bigBelow(t);
    if (!bernoulliExpRatioBig(bits, u, t)) continue;
    let v = 0n;
    while (bernoulliExpMinusOne(bits)) v++;
    const y = (u + t * v) / s;
    const negative = bits.bit() === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

function checkedScale(scale: Rational): Rational {
  const r = reduceRational(scale);
  if (r.num <= 0n) throw new RangeError(`discrete Laplace: scale must be > 0, got ${r.num}/${r.den}`);
  return r;
}

/**
 * A reusable Lap_Z(scale) sampler for a rational scale > 0, with its own buffered random
 * bits (draw many samples from one sampler rather than calling `sampleDiscreteLaplace` in
 * a loop). Throws if a sample would not be a safe integer (scale ≳ 2^48).
 *
 * @example
 * const next = discreteLaplaceSampler(rational(2.5));
 * const noisy = count + next();
 */
export function discreteLaplaceSampler(scale: Rational, random: RandomSource = cryptoRandom, batch = 256): () => number {
  const { num: t, den: s } = checkedScale(scale);
  const bits = new RandomBits(random, batch);
  if (t <= BigInt(TWO_32) && s <= BigInt(Number.MAX_SAFE_INTEGER)) {
    const [tn, sn] = [Number(t), Number(s)];
    return () => discreteLaplaceFromBits(bits, tn, sn);
  }
  return () => {
    const y = discreteLaplaceFromBitsBig(bits, t, s);
    if (y > BigInt(Number.MAX_SAFE_INTEGER) || y < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`discrete Laplace: sample ${y} is not a safe integer`);
    return Number(y);
  };
}

/**
 * One exact discrete Laplace sample Lap_Z(scale), scale a rational > 0.
 *
 * @example
 * sampleDiscreteLaplace({ num: 3n, den: 2n }) // P(x) ∝ e^(−|x|/1.5)
 */
export function sampleDiscreteLaplace(scale: Rational, random: RandomSource = cryptoRandom): number {
  return discreteLaplaceSampler(scale, random, 8)();
}
