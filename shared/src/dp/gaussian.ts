/**
 * Exact discrete Gaussian sampler N_Z(0, σ²) for rational σ² (Canonne, Kamath & Steinke
 * 2020, Algorithm 3): P(X = x) ∝ e^(−x²/(2σ²)), x ∈ ℤ. This is the noise each aggregator
 * adds to its aggregate share; see accounting.ts for the privacy it buys.
 *
 * Speed comes from doing the exact integer arithmetic in doubles whenever every operand
 * provably stays below 2^53 (σ up to a few thousand with an integer σ², the range rounds
 * use) and falling back to BigInt per sample otherwise, plus batched random words.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';
import { bernoulliExpRatio, bernoulliExpRatioBig, MAX_EXACT_DENOMINATOR } from './bernoulli.ts';
import { RandomBits } from './bits.ts';
import { discreteLaplaceFromBits, discreteLaplaceFromBitsBig } from './laplace.ts';
import { floorSqrt, reduceRational, type Rational } from './rational.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Largest |a| with a² < 2^53, so a² is an exact double. */
const MAX_EXACT_ROOT = 94_906_265;
const TWO_32 = 2 ** 32;

function checkedVariance(sigma2: Rational): Rational {
  const r = reduceRational(sigma2);
  // σ² = 0 would be "no noise": refuse it rather than silently release an exact value.
  if (r.num <= 0n) throw new RangeError(`discrete Gaussian: σ² must be > 0, got ${r.num}/${r.den}`);
  return r;
}

function toSafeNumber(y: bigint): number {
  if (y > BigInt(MAX_SAFE) || y < -BigInt(MAX_SAFE)) throw new RangeError(`discrete Gaussian: sample ${y} is not a safe integer`);
  return Number(y);
}

/**
 * A reusable N_Z(0, σ²) sampler for rational σ² > 0, holding its own buffered random bits
 * (`batch` words per call to the source). CKS20 Algorithm 3: with t = ⌊σ⌋ + 1, draw
 * Y ~ Lap_Z(t) and accept it with probability exp(−(|Y| − σ²/t)²/(2σ²)); the accepted Y is
 * exactly N_Z(0, σ²). With σ² = num/den the exponent is the rational
 *   (|Y|·t·den − num)² / (2·num·den·t²),
 * which is all integer arithmetic. Expected proposals per sample: ≈ 1.3 for σ ≥ 10 and
 * below 2 for σ² ≥ 1/4 (1.93 there, 1.85 at σ² = 1).
 *
 * @example
 * const noise = discreteGaussianSampler({ num: 10_000n, den: 1n }); // σ = 100
 * const noisy = share + noise();
 */
export function discreteGaussianSampler(sigma2: Rational, random: RandomSource = cryptoRandom, batch = 256): () => number {
  const { num, den } = checkedVariance(sigma2);
  const bits = new RandomBits(random, batch);
  const t = floorSqrt(num / den) + 1n; // ⌊√(num/den)⌋ = ⌊√⌊num/den⌋⌋, exactly
  const tDen = t * den;
  const denominator = 2n * num * den * t * t;

  if (t <= BigInt(TWO_32) && denominator <= BigInt(MAX_EXACT_DENOMINATOR) && tDen <= BigInt(MAX_SAFE)) {
    // Fast path: every constant is an exact double. Per sample, |Y|·t·den and the
    // numerator a² are checked against 2^53 and the rare far-tail proposal goes to BigInt.
    const [tn, numN, tDenN, dN] = [Number(t), Number(num), Number(tDen), Number(denominator)];
    const yMax = Math.floor(MAX_SAFE / tDenN);
    return () => {
      for (;;) {
        const y = discreteLaplaceFromBits(bits, tn, 1);
        const ay = y < 0 ? -y : y;
        let accept: boolean;
        if (ay <= yMax) {
          const a = ay * tDenN - numN; // both terms < 2^53 and integral: exact
          accept = a <= MAX_EXACT_ROOT && a >= -MAX_EXACT_ROOT ? bernoulliExpRatio(bits, a * a, dN) : bernoulliExpRatioBig(bits, BigInt(a) * BigInt(a), denominator);
        } else {
          const a = BigInt(ay) * tDen - num;
          accept = bernoulliExpRatioBig(bits, a * a, denominator);
        }
        if (accept) return y;
      }
    };
  }

  // General path (large σ or a σ² with a large denominator): the same algorithm in BigInt.
  const proposal = t <= BigInt(TWO_32) ? ((tn: number) => () => BigInt(discreteLaplaceFromBits(bits, tn, 1)))(Number(t)) : () => discreteLaplaceFromBitsBig(bits, t, 1n);
  return () => {
    for (;;) {
      const y = proposal();
      const a = (y < 0n ? -y : y) * tDen - num;
      if (bernoulliExpRatioBig(bits, a * a, denominator)) return toSafeNumber(y);
    }
  };
}

/**
 * One exact N_Z(0, σ²) sample for rational σ² > 0. For many samples build one
 * `discreteGaussianSampler` instead (it reuses its buffered random words).
 *
 * @example
 * sampleDiscreteGaussian(rational(2.5)) // P(x) ∝ e^(−x²/5)
 */
export function sampleDiscreteGaussian(sigma2: Rational, random: RandomSource = cryptoRandom): number {
  return discreteGaussianSampler(sigma2, random, 8)();
}
