import type { ContributionEncoding } from '@edgeseg/shared';

/**
 * The contribution encoding of k-means rounds: the values of the Worker's
 * DEFAULT_ENCODING (worker/src/round-plan.ts), here so that code running outside workerd
 * (the simulator) can import it without the Durable Object classes the aggregator index
 * pulls in. Clip 8 keeps almost every standardised d = 31 vector (norm ≈ √31 ≈ 5.6)
 * whole; bound 2^11 lets a group hold a million devices before a sum could wrap mod
 * 2^32; the coordinates get most of the L2 budget (Σ w² = 0.9925 ≤ 1).
 */
export const TRAINING_ENCODING: ContributionEncoding = { clip: 8, bound: 2048, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };
