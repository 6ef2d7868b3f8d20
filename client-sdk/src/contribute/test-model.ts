/**
 * Test fixture for the chunk tests (not part of any bundle): a signed-model manifest of
 * `k` all-zero centroids with unit scaling. Only the fields the chunks read matter.
 */
import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, type ModelManifest } from '@edgeseg/shared';

/**
 * A manifest of `version` with `k` segments, pinning `aggregators` when given.
 *
 * @example
 * testModel(3, 7, { leader, helper })
 */
export function testModel(k: number, version: number, aggregators: ModelManifest['aggregators'] | undefined): ModelManifest {
  const d = FEATURE_NAMES_V1.length;
  return {
    version,
    schema: FEATURE_SCHEMA_ID,
    features: [...FEATURE_NAMES_V1],
    k,
    centroids: Array.from({ length: k }, () => new Array<number>(d).fill(0)),
    scaling: { mean: new Array<number>(d).fill(0), scale: new Array<number>(d).fill(1) },
    labels: Array.from({ length: k }, (_, i) => String.fromCharCode(97 + i)),
    lifecycle: { new_days: 14, at_risk_days: 21, lapsed_days: 60 },
    epsilon: { report: 1 },
    report_period: 'week',
    ...(aggregators ? { aggregators } : {}),
    issued_at: 1_700_000_000,
    not_before: 1_700_000_000,
  };
}
