/**
 * Wire contract of federated rounds (DESIGN.md §5, §6): what `GET /v1/rounds/current`
 * tells a device, and what a device uploads to `POST /v1/contributions`. Runtime
 * validation lives beside the types so both sides check the same shape.
 */

/** The public key of one aggregator, as pinned in the model and served in `/.well-known/hpke-configs`. */
export interface HpkeConfig {
  /** 0–255, names the key for rotation. */
  config_id: number;
  /** RFC 9180 ids: DHKEM(P-256, HKDF-SHA256) = 0x0010, HKDF-SHA256 = 0x0001, AES-128-GCM = 0x0001. */
  kem_id: 16;
  kdf_id: 1;
  aead_id: 1;
  /** Uncompressed P-256 public key (65 bytes), base64url. */
  public_key: string;
}

/**
 * How a device turns its feature vector into integers. Every field of one device's
 * vector is bounded by `bound` in magnitude, so a sum over fewer than 2^31 / bound
 * devices never wraps mod 2^32; the field weights split that bound (Σ w² ≤ 1) and so
 * also the vector's L2 sensitivity, which is at most `bound`.
 */
export interface ContributionEncoding {
  /** L2 clipping bound of the standardised feature vector. */
  clip: number;
  /** Integer magnitude bound of one device's whole vector in L2 (and so of every entry). */
  bound: number;
  /** Share of `bound` given to each field: coordinate sums (in L2), count, squared distance, silhouette. */
  weights: { coords: number; count: number; sqdist: number; silhouette: number };
}

/** Kinds of round: a k-means step, or a per-period count (one-hot). */
export type RoundKind = 'kmeans' | 'counts';

/**
 * What a counts round counts, one value per device and week: its segment (of the model's
 * k), its lifecycle stage (LIFECYCLE_STAGES), or one campaign it was shown (of the model's
 * campaigns); each with a last "none" entry. Separate rounds, so each is its own Prio3
 * histogram whose proof says the report adds exactly 1 to one entry.
 */
export type CountsMeasure = 'segment' | 'lifecycle' | 'impressions';

/** Every {@link CountsMeasure}, in the order a device reports them each week. */
export const COUNTS_MEASURES: readonly CountsMeasure[] = ['segment', 'lifecycle', 'impressions'];

/** `GET /v1/rounds/current`: everything a device needs to contribute. */
export interface RoundDescriptor {
  round_id: string;
  kind: RoundKind;
  mode: 'secure' | 'local';
  model_version: number;
  k: number;
  d: number;
  /**
   * Candidate centroid sets (standardised), one per slice; a device contributes to the
   * slice it draws. One slice except during initialisation, when disjoint slices of the
   * population each run a candidate (no extra ε: parallel composition).
   */
  slices: number[][][];
  /** Devices draw a group in [0, groups); the servers sum each (slice, group) apart, so a
   * robust combiner can bound what one device moves (median of group means). */
  groups: number;
  encoding: ContributionEncoding;
  /** Per-release privacy parameters this round charges (device ledger and public ledger). */
  epsilon: number;
  delta: number;
  /** Local mode only: σ² of the discrete Gaussian the device adds to each entry. */
  local_sigma2?: number;
  /** Epoch seconds when the round opened. */
  opens_at: number;
  /** Epoch seconds after which contributions are refused. */
  closes_at: number;
  /**
   * Minimum contributions per released bucket (one slice and group): a bucket with fewer
   * is never released by either aggregator, and the helper enforces its own minimum on
   * top (its policy). Part of the configuration every share is sealed to.
   */
  min_batch: number;
  /**
   * Counts rounds only: the ISO week whose segments are counted. A device contributes
   * the one-hot of the segment it held in that week (or the "no segment" entry); the
   * round closes after the week has ended, so an open week is never released.
   */
  period?: string;
  /**
   * Counts rounds only: what the round counts (counts-measure.ts). Absent means
   * `segment`, so a segment round reads the same to SDKs that predate the field.
   */
  measure?: Exclude<CountsMeasure, 'segment'>;
  hpke: { leader: HpkeConfig; helper?: HpkeConfig };
}

/** An HPKE ciphertext: encapsulated key and sealed bytes, both base64url. */
export interface SealedShare {
  config_id: number;
  enc: string;
  ct: string;
}

/**
 * `POST /v1/contributions` (secure mode): a Prio3 report (secure/prio3.ts). The leader's
 * input share is sealed to the leader; the helper's (three seeds) to the helper, which
 * the leader relays without being able to open it. The aggregators derive the report's
 * group from its id; the device does not choose it.
 */
export interface SecureContribution {
  round_id: string;
  /** Random idempotency id (16–64 chars of [A-Za-z0-9_-]); also binds both ciphertexts (HPKE aad). */
  id: string;
  slice: number;
  /** Prio3's public share (both joint-randomness parts), base64url; bound into both aads. */
  public_share: string;
  /** The leader's Prio3 input share (measurement and proof shares), sealed to the leader. */
  leader: SealedShare;
  /** The helper's Prio3 input share (three seeds), sealed to the helper's own key. */
  helper: SealedShare;
}

/** `POST /v1/contributions` (local mode): the vector with the device's own noise, as int32s. */
export interface LocalContribution {
  round_id: string;
  id: string;
  slice: number;
  noised: number[];
}
