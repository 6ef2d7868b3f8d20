/**
 * How a device's total privacy budget for one training is spread over its rounds. Every
 * round is one discrete Gaussian release per device (each device sits in exactly one
 * slice and group of a round, so a round costs it one ρ), and rounds compose in zCDP:
 * ρ_total = Σ ρ_r, reported as (ε, δ)-DP with the tight CKS20 conversion.
 */
import { composeZcdp, rationalToNumber, rhoForEpsilon, sigma2ForZcdp, zcdpToEpsilon, type Rational } from '@edgeseg/shared/dp';

/** One round's share of the budget. */
export interface RoundBudget {
  /** zCDP ρ this round charges every contributing device. */
  rho: number;
  /** The same release alone as (ε, δ)-DP (what the public ledger lists per round). */
  epsilon: number;
  /** Discrete Gaussian variance per entry at the vector's L2 sensitivity (each aggregator adds it in full; in local mode each device does). */
  sigma2: Rational;
}

export interface TrainingBudget {
  /** The (ε, δ) target for the whole training. */
  epsilon: number;
  delta: number;
  /** ρ of the whole training: the largest ρ whose tight conversion is ≤ ε at δ. */
  rho: number;
  rounds: RoundBudget[];
  /** The whole training's ε after composition (Σ ρ_r back through the conversion): ≤ epsilon. */
  composedEpsilon: number;
}

/**
 * Splits a total (ε, δ) over rounds in proportion to `weights` (one per round, > 0) in
 * ρ, with each round's σ² at L2 sensitivity `sensitivity` (rounded up, so never over
 * budget). Later rounds usually get more weight: they set the released centroids, while
 * early ones only need to find the clusters' rough place.
 *
 * @example
 * const budget = splitBudget(1, 1e-9, [1, 1, 1, 2], 2048);
 * budget.rounds[3].sigma2 // the last round's variance, half the others'
 */
export function splitBudget(epsilon: number, delta: number, weights: readonly number[], sensitivity: number): TrainingBudget {
  if (weights.length === 0 || !weights.every((w) => w > 0 && Number.isFinite(w))) throw new RangeError('splitBudget: need at least one positive weight per round');
  const rho = rhoForEpsilon(epsilon, delta);
  const total = weights.reduce((a, b) => a + b, 0);
  const rounds = weights.map((w) => {
    const r = (rho * w) / total;
    const sigma2 = sigma2ForZcdp(r, sensitivity);
    // σ² is rounded up, so the ρ actually charged is Δ²/(2σ²) ≤ r.
    const charged = (sensitivity * sensitivity) / (2 * rationalToNumber(sigma2));
    return { rho: charged, epsilon: zcdpToEpsilon(charged, delta), sigma2 };
  });
  return { epsilon, delta, rho, rounds, composedEpsilon: zcdpToEpsilon(composeZcdp(rounds.map((r) => r.rho)), delta) };
}
