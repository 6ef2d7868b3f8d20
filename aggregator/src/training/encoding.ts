import type { ContributionEncoding } from '@edgeseg/shared';

/**
 * The contribution encoding of k-means rounds: the values of the Worker's
 * DEFAULT_ENCODING (worker/src/round-plan.ts), here so that code running outside workerd
 * (the simulator) can import it without the Durable Object classes the aggregator index
 * pulls in. Clip 8 keeps almost every standardised d = 31 vector (norm ≈ √31 ≈ 5.6)
 * whole; bound 127 keeps every honest entry inside the ±128 a secure round's Prio3
 * SumVec proves (8 bits per entry: shard about 150 ms on a device, prepare about 45 ms
 * per aggregator), and stochastic rounding at that scale adds far less error than the
 * central noise (whose σ scales with the bound, so ε buys the same accuracy at any
 * bound); the coordinates get most of the L2 budget (Σ w² = 0.9925 ≤ 1).
 */
export const TRAINING_ENCODING: ContributionEncoding = { clip: 8, bound: 127, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };
