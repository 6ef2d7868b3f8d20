/**
 * Privacy accounting for discrete Gaussian noise, in zero-concentrated DP (zCDP, ρ), with
 * conversion to (ε, δ)-DP for the public ledger and the inverse: the σ² a round needs to
 * meet an (ε, δ) target.
 *
 * The mechanism: a query q with integer vector values whose L2 sensitivity is Δ (one
 * device added or removed moves q by at most Δ in L2; for a contribution vector that is
 * `ContributionEncoding.bound`), released as q + Y with Y_j ~ N_Z(0, σ²) independent.
 *
 * What CKS20 (Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential Privacy",
 * NeurIPS 2020) proves: for σ₁…σ_d > 0 and q: Xⁿ → ℤ^d with Σ_j (q_j(x) − q_j(x'))²/σ_j² ≤ ε²
 * for all neighbouring x, x', the mechanism M(x) = q(x) + Y, Y_j ~ N_Z(0, σ_j²) independent,
 * satisfies ½ε²-concentrated DP (their multivariate theorem; the univariate case is
 * "|q(x) − q(x')| ≤ Δ ⇒ ½(Δ/σ)²-CDP"). With equal σ this is ρ = Δ²/(2σ²), exactly the
 * continuous Gaussian's value: the Rényi divergence between two discrete Gaussians with
 * integer means is at most the continuous one, and Rényi divergences of independent
 * coordinates add. So no correction applies to ρ for the multivariate case.
 * Corrections appear only elsewhere: (i) in CKS20's direct (ε, δ) bound for the
 * multivariate discrete Gaussian, which borrows the continuous Gaussian's tight curve and
 * pays a small additive term for the discrete one (we do not use it: we go through zCDP);
 * (ii) when a *sum* of independent discrete Gaussians is treated as one discrete Gaussian
 * (Kairouz, Liu & Steinke 2021, distributed discrete Gaussian), since that sum is not
 * exactly N_Z. Here each aggregator's own single N_Z(0, σ²) is accounted on its own, so
 * neither applies, and the other aggregator's noise is a free bonus: if it colludes or
 * skips its noise, the guarantee still holds.
 */
import { rationalToNumber, reduceRational, type Rational } from './rational.ts';

function checkRho(rho: number, where: string): void {
  if (!(rho >= 0) || !Number.isFinite(rho)) throw new RangeError(`${where}: ρ must be a finite number ≥ 0, got ${rho}`);
}

/**
 * ρ-zCDP of adding independent N_Z(0, σ²) to every coordinate of an integer-vector query
 * with L2 sensitivity Δ: ρ = Δ²/(2σ²) (CKS20, multivariate discrete Gaussian; no
 * discretisation correction, see the file comment).
 *
 * @example
 * zcdpOfDiscreteGaussian(1, rational(2)) // 0.25
 */
export function zcdpOfDiscreteGaussian(sensitivity: number, sigma2: Rational | number): number {
  const s2 = typeof sigma2 === 'number' ? sigma2 : rationalToNumber(sigma2);
  if (!(sensitivity >= 0) || !Number.isFinite(sensitivity)) throw new RangeError(`zcdpOfDiscreteGaussian: bad sensitivity ${sensitivity}`);
  if (!(s2 > 0) || !Number.isFinite(s2)) throw new RangeError(`zcdpOfDiscreteGaussian: σ² must be > 0, got ${s2}`);
  return (sensitivity * sensitivity) / (2 * s2);
}

/**
 * Composition: releasing mechanisms that are ρ₁-, ρ₂-, …-zCDP (even adaptively chosen) is
 * (Σ ρᵢ)-zCDP (Bun & Steinke 2016, "Concentrated Differential Privacy: Simplifications,
 * Extensions, and Lower Bounds").
 *
 * @example
 * composeZcdp([0.05, 0.05, 0.1]) // 0.2
 */
export function composeZcdp(rhos: readonly number[]): number {
  let total = 0;
  for (const rho of rhos) {
    checkRho(rho, 'composeZcdp');
    total += rho;
  }
  return total;
}

/**
 * The standard conversion ρ-zCDP ⇒ (ε, δ)-DP with ε = ρ + 2√(ρ·ln(1/δ)) (Bun & Steinke
 * 2016, Proposition 1.3). Valid but loose; kept to show what the tight one saves.
 *
 * @example
 * zcdpToEpsilonStandard(0.5, 1e-6) // ≈ 5.757
 */
export function zcdpToEpsilonStandard(rho: number, delta: number): number {
  checkRho(rho, 'zcdpToEpsilonStandard');
  if (!(delta > 0)) throw new RangeError(`zcdpToEpsilonStandard: δ must be > 0, got ${delta}`);
  if (delta >= 1) return 0;
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** Bisection for the root of an increasing function on [lo, hi] (200 halvings, or until the interval stops shrinking). */
function increasingRoot(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The tight CKS20 conversion (Corollary 13) in its δ form: ρ-zCDP implies (ε, δ)-DP for
 *   δ = inf_{α>1} exp((α−1)(αρ − ε)) / (α − 1) · (1 − 1/α)^α.
 * The log of the bracket is convex in α with derivative (2α−1)ρ − ε + ln(1 − 1/α), found
 * by bisection. Any α > 1 gives a valid bound, so numerical error in α only makes δ
 * larger, never unsafe.
 *
 * @example
 * zcdpToDelta(0.5, 5) // ≈ 2.90e-6
 */
export function zcdpToDelta(rho: number, epsilon: number): number {
  checkRho(rho, 'zcdpToDelta');
  if (!(epsilon >= 0)) throw new RangeError(`zcdpToDelta: ε must be ≥ 0, got ${epsilon}`);
  if (rho === 0) return 0;
  // At α = hi the derivative is ≥ (ε + 1 + 3ρ) − ε − ln 2 > 0, so the root lies in (1, hi).
  const hi = Math.max(2, (epsilon + 1) / (2 * rho) + 2);
  const alpha = increasingRoot((a) => (2 * a - 1) * rho - epsilon + Math.log1p(-1 / a), 1, hi);
  const logDelta = (alpha - 1) * (alpha * rho - epsilon) + alpha * Math.log1p(-1 / alpha) - Math.log(alpha - 1);
  return Math.min(1, Math.exp(logDelta));
}

/**
 * The tight CKS20 conversion (Corollary 13) in its ε form, for reporting a ρ-zCDP
 * release as (ε, δ)-DP: solving their δ(α) for ε gives
 *   ε = inf_{α>1} αρ + ln(1 − 1/α) + (ln(1/δ) − ln α)/(α − 1).
 * Its derivative in α is ρ − (ln(1/δ) − ln α)/(α − 1)², so the optimal α solves
 * ρ(α − 1)² = ln(1/δ) − ln α (one root, found by bisection). Always ≤ the standard
 * ρ + 2√(ρ ln(1/δ)).
 *
 * @example
 * zcdpToEpsilon(0.5, 1e-6) // ≈ 5.222 (standard bound: 5.757)
 */
export function zcdpToEpsilon(rho: number, delta: number): number {
  checkRho(rho, 'zcdpToEpsilon');
  if (!(delta > 0)) throw new RangeError(`zcdpToEpsilon: δ must be > 0, got ${delta}`);
  if (delta >= 1 || rho === 0) return 0;
  const logInvDelta = -Math.log(delta);
  // At α = 1 + √(ln(1/δ)/ρ) + 1 the left side exceeds ln(1/δ) while ln α > 0: root is below.
  const hi = 2 + Math.sqrt(logInvDelta / rho);
  const alpha = increasingRoot((a) => rho * (a - 1) ** 2 - logInvDelta + Math.log(a), 1, hi);
  const epsilon = alpha * rho + Math.log1p(-1 / alpha) + (logInvDelta - Math.log(alpha)) / (alpha - 1);
  return Math.max(0, epsilon);
}

/**
 * σ² as a rational at least `x`, with about 7 significant decimal digits: integers from
 * 10^6 up, otherwise a power-of-ten denominator. Small numerators and denominators keep the
 * sampler on its fast exact path; rounding up only adds noise, so the target still holds.
 */
function rationalAtLeast(x: number): Rational {
  const digits = x >= 1e6 ? 0 : Math.min(300, 6 - Math.floor(Math.log10(x)));
  const den = 10n ** BigInt(digits);
  let num = BigInt(Math.ceil(x * 10 ** digits));
  // x·10^k was rounded once in floating point; step up until the rational really is ≥ x.
  while (rationalToNumber({ num, den }) < x) num++;
  return reduceRational({ num, den });
}

/**
 * The smallest discrete Gaussian variance for a ρ budget: σ² = Δ²/(2ρ), as a rational
 * rounded up (≈ 7 significant digits).
 *
 * @example
 * sigma2ForZcdp(0.125, 1) // { num: 4n, den: 1n }
 */
export function sigma2ForZcdp(rho: number, sensitivity: number): Rational {
  if (!(rho > 0) || !Number.isFinite(rho)) throw new RangeError(`sigma2ForZcdp: ρ must be > 0, got ${rho}`);
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity)) throw new RangeError(`sigma2ForZcdp: bad sensitivity ${sensitivity}`);
  let r = rationalAtLeast((sensitivity * sensitivity) / (2 * rho));
  // Floating point could leave ρ(σ²) a hair above the budget: nudge up until it is not.
  while (zcdpOfDiscreteGaussian(sensitivity, r) > rho) r = { num: r.num + 1n, den: r.den };
  return r;
}

/**
 * The discrete Gaussian variance one release needs for an (ε, δ)-DP target, for a query
 * with L2 sensitivity Δ: the smallest σ² (to ~7 significant digits, rounded up) with
 * zcdpToEpsilon(Δ²/(2σ²), δ) ≤ ε, found by bisection on log σ² (ε is decreasing in σ²).
 * This is for a single release; for several releases from one budget, split ρ instead
 * (composeZcdp) and use sigma2ForZcdp.
 *
 * @example
 * const sigma2 = sigma2ForEpsilon(1, 1e-9, encoding.bound);
 * addDiscreteGaussianNoise(share, sigma2);
 */
export function sigma2ForEpsilon(epsilon: number, delta: number, sensitivity: number): Rational {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError(`sigma2ForEpsilon: ε must be > 0, got ${epsilon}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`sigma2ForEpsilon: δ must be in (0, 1), got ${delta}`);
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity)) throw new RangeError(`sigma2ForEpsilon: bad sensitivity ${sensitivity}`);
  const eps = (s2: number) => zcdpToEpsilon(zcdpOfDiscreteGaussian(sensitivity, s2), delta);
  // Bracket in log space: ε(lo) > target ≥ ε(hi).
  let hi = sensitivity * sensitivity;
  while (eps(hi) > epsilon) hi *= 2;
  let lo = hi / 2;
  while (eps(lo) <= epsilon) lo /= 2;
  for (let i = 0; i < 200 && hi / lo > 1 + 1e-12; i++) {
    const mid = Math.sqrt(lo * hi);
    if (eps(mid) > epsilon) lo = mid;
    else hi = mid;
  }
  let r = rationalAtLeast(hi);
  while (eps(rationalToNumber(r)) > epsilon) r = { num: r.num + 1n, den: r.den };
  return r;
}

/**
 * The largest ρ with zcdpToEpsilon(ρ, δ) ≤ ε (bisection; ε is increasing in ρ).
 *
 * @example
 * rhoForEpsilon(1, 1e-9) // ≈ 0.0136
 */
export function rhoForEpsilon(epsilon: number, delta: number): number {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError(`rhoForEpsilon: ε must be > 0, got ${epsilon}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`rhoForEpsilon: δ must be in (0, 1), got ${delta}`);
  let lo = 0;
  let hi = epsilon; // zcdpToEpsilon(ρ, δ) ≥ ρ, so ρ = ε is already too much (or exactly enough)
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    if (zcdpToEpsilon(mid, delta) > epsilon) hi = mid;
    else lo = mid;
  }
  return lo;
}
