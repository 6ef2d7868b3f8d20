/**
 * The model a fresh deployment starts with, before any federated round has run: four
 * hand-placed centroids in standardised feature space, with scaling from typical
 * streaming viewing. Good enough to give a new app sensible segments on day one; the
 * first trained model replaces it.
 */
import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, type ModelManifest } from '@edgeseg/shared';

//                      sess  hours titles compl skip  idle  tenure eve  wkend  tv    mob   drama comedy action thrill
const MEAN = /*    */ [1.2, 1.8, 1.4, 0.6, 0.15, 1.2, 3.5, 0.5, 0.35, 0.4, 0.3, 0.35, 0.25, 0.2, 0.2];
const SCALE = /*   */ [0.6, 0.8, 0.7, 0.25, 0.15, 0.8, 1.5, 0.25, 0.2, 0.35, 0.3, 0.2, 0.15, 0.15, 0.15];
const CENTROIDS = [
  [0.5, 1.2, 0.3, 0.8, -0.5, -0.6, 0, 1.0, 0.3, 1.2, -0.7, 1.3, -0.3, -0.5, -0.2],
  [0.2, -0.6, 0.4, -0.4, 0.8, 0, 0, -0.3, 0, -0.8, 1.3, -0.5, 1.4, 0, -0.4],
  [-0.2, 0.2, -0.1, 0.3, -0.2, 0.2, 0, 0.2, 1.3, 0.4, -0.3, -0.6, -0.5, 1.2, 1.0],
  [-1.0, -1.0, -0.9, -0.3, 0.2, 1.2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
];
const LABELS = [
  'Evening drama bingers, mostly on TV',
  'Comedy snackers on mobile',
  'Weekend action and thriller fans',
  'Occasional light viewers',
];

/**
 * The version-1 manifest, issued at `nowS` (epoch seconds).
 *
 * @example
 * const manifest = bootstrapManifest(Math.floor(Date.now() / 1000));
 */
export function bootstrapManifest(nowS: number): ModelManifest {
  return {
    version: 1,
    schema: FEATURE_SCHEMA_ID,
    features: [...FEATURE_NAMES_V1],
    k: CENTROIDS.length,
    centroids: CENTROIDS,
    scaling: { mean: MEAN, scale: SCALE },
    labels: LABELS,
    lifecycle: { new_days: 14, at_risk_days: 10, lapsed_days: 30 },
    epsilon: { report: 2 },
    report_period: 'week',
    issued_at: nowS,
    not_before: nowS - 60,
  };
}
