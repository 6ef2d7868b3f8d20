import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID } from './features/schema.ts';
import { campaignListErrors, type Campaign } from './campaigns.ts';
import type { HpkeConfig } from './rounds.ts';
import { isIntIn, isNumberIn, isObject, type Checked } from './validate.ts';

/** Lifecycle overlay thresholds, in days. */
export interface LifecycleRules {
  /** Tenure under this many days → `new`. */
  new_days: number;
  /** No viewing for more than this many days → `at_risk`. */
  at_risk_days: number;
  /** No viewing for more than this many days → `lapsed`. */
  lapsed_days: number;
}

/** The signed segmentation model every device runs. Payload of the model JWS. */
export interface ModelManifest {
  version: number;
  schema: typeof FEATURE_SCHEMA_ID;
  features: string[];
  k: number;
  /** k rows of d standardised coordinates. */
  centroids: number[][];
  scaling: { mean: number[]; scale: number[] };
  labels: string[];
  lifecycle: LifecycleRules;
  /**
   * ε spent by one randomized segment report, by one weekly impression report and by one
   * weekly lifecycle report (both default to `report`).
   */
  epsilon: { report: number; impression?: number; lifecycle?: number };
  report_period: 'week';
  /**
   * How devices under `measurement` count segments per period: `grr` (default when
   * absent) sends one randomized report to the leader; `secure` contributes a
   * secret-shared one-hot vector to the period's counts round (two aggregators).
   */
  measurement?: 'grr' | 'secure';
  /**
   * The aggregators' HPKE keys, pinned by the signature: a device seals contributions
   * only to these, never to keys a round descriptor alone names.
   */
  aggregators?: { leader: HpkeConfig; helper: HpkeConfig };
  /** Marketer campaigns (≤ 32, each `segment < k`), applied on the device only; see campaigns.ts. */
  campaigns?: Campaign[];
  /** Epoch seconds. */
  issued_at: number;
  not_before: number;
}

/** JOSE `typ` header of a model JWS; a token of any other type is not a model. */
export const MODEL_JWS_TYPE = 'edgeseg-model+json';
export const MAX_SEGMENTS = 64;
const MAX_EPOCH_S = 1e11;

function isNumberRow(v: unknown, d: number, check: (x: unknown) => boolean): v is number[] {
  return Array.isArray(v) && v.length === d && v.every(check);
}

const finite = (x: unknown): boolean => isNumberIn(x, -1e6, 1e6);

/** Shape of a pinned HPKE config (DHKEM P-256, HKDF-SHA256, AES-128-GCM; 65-byte key, base64url). */
function isHpkeConfig(v: unknown): boolean {
  return isObject(v) && isIntIn(v.config_id, 0, 255) && v.kem_id === 16 && v.kdf_id === 1 && v.aead_id === 1 && typeof v.public_key === 'string' && /^[A-Za-z0-9_-]{87}$/.test(v.public_key);
}

/**
 * Checks an untrusted value (a decoded JWS payload) against the manifest shape,
 * dimensions and ranges.
 *
 * @example
 * const r = parseManifest(JSON.parse(payloadText));
 * if (!r.ok) throw new Error(r.errors.join('; '));
 */
export function parseManifest(v: unknown): Checked<ModelManifest> {
  if (!isObject(v)) return { ok: false, errors: ['manifest: must be an object'] };
  const errors: string[] = [];
  const d = FEATURE_NAMES_V1.length;
  if (!isIntIn(v.version, 1, Number.MAX_SAFE_INTEGER)) errors.push('version: must be a positive integer');
  if (v.schema !== FEATURE_SCHEMA_ID) errors.push(`schema: must be ${FEATURE_SCHEMA_ID}`);
  if (!Array.isArray(v.features) || v.features.join(',') !== FEATURE_NAMES_V1.join(',')) errors.push('features: must list the schema features in order');
  const k = v.k;
  if (!isIntIn(k, 1, MAX_SEGMENTS)) errors.push(`k: must be an integer in [1, ${MAX_SEGMENTS}]`);
  else {
    if (!Array.isArray(v.centroids) || v.centroids.length !== k || !v.centroids.every((row) => isNumberRow(row, d, finite))) {
      errors.push(`centroids: must be ${k} rows of ${d} finite numbers`);
    }
    if (!Array.isArray(v.labels) || v.labels.length !== k || !v.labels.every((l) => typeof l === 'string' && l.length <= 200)) {
      errors.push(`labels: must be ${k} strings`);
    }
  }
  const scaling = v.scaling;
  if (!isObject(scaling) || !isNumberRow(scaling.mean, d, finite) || !isNumberRow(scaling.scale, d, (x) => isNumberIn(x, 1e-9, 1e6))) {
    errors.push(`scaling: must hold mean and positive scale arrays of ${d} numbers`);
  }
  const lc = v.lifecycle;
  if (!isObject(lc) || !isNumberIn(lc.new_days, 0, 3650) || !isNumberIn(lc.at_risk_days, 0, 3650) || !isNumberIn(lc.lapsed_days, 0, 3650) || (lc.at_risk_days as number) > (lc.lapsed_days as number)) {
    errors.push('lifecycle: must hold new_days, at_risk_days ≤ lapsed_days, in days');
  }
  if (!isObject(v.epsilon) || !isNumberIn(v.epsilon.report, 0.01, 20) || !(v.epsilon.impression === undefined || isNumberIn(v.epsilon.impression, 0.01, 20)) || !(v.epsilon.lifecycle === undefined || isNumberIn(v.epsilon.lifecycle, 0.01, 20))) {
    errors.push('epsilon: report, impression, lifecycle in [0.01, 20]');
  }
  if (v.campaigns !== undefined) errors.push(...campaignListErrors(v.campaigns, isIntIn(k, 1, MAX_SEGMENTS) ? k : 0));
  if (v.report_period !== 'week') errors.push('report_period: must be "week"');
  if (v.measurement !== undefined && v.measurement !== 'grr' && v.measurement !== 'secure') errors.push("measurement: must be 'grr' or 'secure'");
  if (v.measurement === 'secure' && v.aggregators === undefined) errors.push('measurement: secure counting needs pinned aggregators');
  if (v.aggregators !== undefined && !(isObject(v.aggregators) && isHpkeConfig(v.aggregators.leader) && isHpkeConfig(v.aggregators.helper))) errors.push('aggregators: must pin a leader and a helper HPKE config');
  if (!isNumberIn(v.issued_at, 0, MAX_EPOCH_S)) errors.push('issued_at: must be epoch seconds');
  if (!isNumberIn(v.not_before, 0, MAX_EPOCH_S)) errors.push('not_before: must be epoch seconds');
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as ModelManifest };
}
