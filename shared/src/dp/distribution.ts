/**
 * The exact laws of the noise the samplers draw (pmf, variance, tails), evaluated in
 * floating point. For error bars on released counts and for checking the samplers; never
 * for sampling itself. For small σ the discrete Gaussian's variance is visibly below σ²
 * (N_Z(0, 1/4) has variance ≈ 0.215), so error bars must come from here, not from σ².
 */
import { rationalToNumber, type Rational } from './rational.ts';

/** A symmetric integer noise law. */
export interface IntegerNoiseLaw {
  /** P(X = x) for an integer x. */
  pmf(x: number): number;
  /** P(|X| > k). */
  tail(k: number): number;
  /** Var(X) = E[X²] (the mean is 0). */
  variance: number;
  /** E[X⁴], for the standard error of a sample variance: √((E[X⁴] − Var²)/n). */
  fourthMoment: number;
}

function positive(x: Rational | number, what: string): number {
  const v = typeof x === 'number' ? x : rationalToNumber(x);
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${what} must be a finite number > 0, got ${v}`);
  return v;
}

/**
 * The law of N_Z(0, σ²): P(x) = e^(−x²/(2σ²)) / Σ_y e^(−y²/(2σ²)), summed numerically
 * (terms beyond 40σ are below e^−800 and vanish in doubles).
 *
 * @example
 * discreteGaussianLaw(rational(0.25)).variance // ≈ 0.2150, not 0.25
 */
export function discreteGaussianLaw(sigma2: Rational | number): IntegerNoiseLaw {
  const s2 = positive(sigma2, 'discreteGaussianLaw: σ²');
  const last = Math.ceil(40 * Math.sqrt(s2)) + 2;
  // Unnormalised weights w[x] = e^(−x²/(2σ²)) for x = 0..last; tails summed from the far
  // end inwards so small terms are not lost against large partial sums.
  const w = new Float64Array(last + 1);
  for (let x = 0; x <= last; x++) w[x] = Math.exp(-(x * x) / (2 * s2));
  const above = new Float64Array(last + 2); // above[k] = Σ_{x ≥ k} w[x]
  for (let x = last; x >= 0; x--) above[x] = (above[x + 1] as number) + (w[x] as number);
  const z = 2 * (above[1] as number) + (w[0] as number);
  let m2 = 0;
  let m4 = 0;
  for (let x = last; x >= 1; x--) {
    const x2 = x * x;
    m2 += x2 * (w[x] as number);
    m4 += x2 * x2 * (w[x] as number);
  }
  return {
    pmf: (x) => (Math.abs(x) > last ? 0 : (w[Math.abs(x)] as number) / z),
    tail: (k) => {
      const from = Math.max(0, Math.floor(k) + 1);
      return from > last ? 0 : (2 * (above[from] as number) - (from === 0 ? (w[0] as number) : 0)) / z;
    },
    variance: (2 * m2) / z,
    fourthMoment: (2 * m4) / z,
  };
}

/**
 * The law of Lap_Z(scale): P(x) = (1 − q)/(1 + q) · q^|x| with q = e^(−1/scale), in closed
 * form: Var = 2q/(1 − q)², P(|X| > k) = 2q^(⌊k⌋+1)/(1 + q), E[X⁴] = 2q(1 + 11q + 11q² + q³)/((1 + q)(1 − q)⁴).
 *
 * @example
 * discreteLaplaceLaw(1).variance // 2e/(e − 1)² ≈ 1.8410
 */
export function discreteLaplaceLaw(scale: Rational | number): IntegerNoiseLaw {
  const b = positive(scale, 'discreteLaplaceLaw: scale');
  const q = Math.exp(-1 / b);
  const oneMinusQ = -Math.expm1(-1 / b); // 1 − q without cancellation for large scales
  return {
    pmf: (x) => (oneMinusQ / (1 + q)) * q ** Math.abs(x),
    tail: (k) => (k < 0 ? 1 : (2 * q ** (Math.floor(k) + 1)) / (1 + q)),
    variance: (2 * q) / oneMinusQ ** 2,
    fourthMoment: (2 * q * (1 + 11 * q + 11 * q * q + q * q * q)) / ((1 + q) * oneMinusQ ** 4),
  };
}
