/**
 * Planning a round: turns an admin's request (duration, minimum batch, ε, δ, groups,
 * slices) into the record both aggregators store and the descriptor devices see.
 */
import type { RoundRecord } from '@edgeseg/aggregator';
import { cryptoRandom, type ContributionEncoding, type HpkeConfig, type ModelManifest } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';

/**
 * Standardised feature vectors have norm ≈ √d ≈ 5.6 for d = 31, so a clip of 8 keeps
 * almost every device whole; a bound of 2^11 lets a group hold a million devices
 * before a sum could wrap mod 2^32; the weights give the coordinates most of the L2
 * budget (Σ w² = 0.9925 ≤ 1).
 */
export const DEFAULT_ENCODING: ContributionEncoding = { clip: 8, bound: 2048, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };

export interface RoundPlanInput {
  manifest: ModelManifest;
  nowS: number;
  durationS: number;
  minDevices: number;
  epsilon: number;
  delta: number;
  groups: number;
  slices: number;
  shards: number;
  encoding: ContributionEncoding;
  hpke: { leader: HpkeConfig; helper: HpkeConfig };
}

function randomHex(bytes: number): string {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  cryptoRandom(words);
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('').slice(0, bytes * 2);
}

/**
 * A data-independent candidate start: k points drawn uniformly from the cube [−1, 1]^d
 * of standardised space (never seeded from any device's data).
 */
function dataIndependentStart(k: number, d: number): number[][] {
  const words = new Uint32Array(k * d);
  cryptoRandom(words);
  return Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => ((words[c * d + j] as number) / 2 ** 32) * 2 - 1));
}

/**
 * The record of a new k-means round: slice 0 refines the current model; further slices
 * (initialisation) start from data-independent candidates on disjoint device slices.
 * Each aggregator adds the full σ² for (ε, δ) at the vector's L2 sensitivity, so the
 * guarantee holds even if the other aggregator adds nothing.
 *
 * @example
 * const record = planRound({ manifest, nowS, durationS: 3600, minDevices: 100, epsilon: 1, delta: 1e-9, groups: 8, slices: 1, shards: 8, encoding: DEFAULT_ENCODING, hpke });
 */
export function planRound(p: RoundPlanInput): RoundRecord {
  const { manifest } = p;
  const d = manifest.features.length;
  const sigma2 = sigma2ForEpsilon(p.epsilon, p.delta, p.encoding.bound);
  return {
    descriptor: {
      round_id: `r-${p.nowS}-${randomHex(4)}`,
      kind: 'kmeans',
      mode: 'secure',
      model_version: manifest.version,
      k: manifest.k,
      d,
      slices: [manifest.centroids, ...Array.from({ length: p.slices - 1 }, () => dataIndependentStart(manifest.k, d))],
      groups: p.groups,
      encoding: p.encoding,
      epsilon: p.epsilon,
      delta: p.delta,
      closes_at: p.nowS + p.durationS,
      hpke: p.hpke,
    },
    shards: p.shards,
    min_devices: p.minDevices,
    sigma2: `${sigma2.num}/${sigma2.den}`,
    state: 'open',
    opened_at: p.nowS,
    closed_at: null,
    contributions: null,
    reason: null,
    result: null,
  };
}
