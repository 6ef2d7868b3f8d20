/**
 * Key rotation rules, as pure functions over the rows a KeyRing stores (times in epoch
 * milliseconds). Which key is current, which retired keys are still published or still
 * open shares, and when each may be forgotten:
 *
 * - Model signing: the newest key signs. A retired key stays in the JWKS until a model
 *   signed by a newer key has been published (before that, the current model is still
 *   signed by it) plus {@link SIGNING_RETENTION_MS}, which covers `/v1/model`'s 60 s
 *   max-age with a wide margin for caches and clock skew. Its private half is forgotten
 *   the moment it is retired: a retired key never signs again.
 * - HPKE: the newest key is what new rounds and the next model name. A retired key stays
 *   published and still opens shares while any round that names it is open, and for at
 *   least {@link HPKE_RETIRED_MIN_MS} after retirement (so a round planned just before the
 *   rotation, or with a helper config the leader cached for 5 minutes, still finds it);
 *   after that its private half is deleted.
 *
 * The keys in the Worker's secrets are the initial ("genesis") keys: they are current
 * while the ring is empty; the first rotation records the genesis key as retired.
 */
import type { HpkeConfig } from '@edgeseg/shared';

/** A retired signing key stays published this long after a newer key's first model. */
export const SIGNING_RETENTION_MS = 60 * 60_000;
/** A retired HPKE key is kept at least this long, whatever the rounds say. */
export const HPKE_RETIRED_MIN_MS = 15 * 60_000;
/**
 * An open round stops holding its HPKE keys this long after its close time: a round
 * stuck open (an abandoned round the helper never heard of, a helper down for days)
 * must not pin a retired key forever.
 */
export const ROUND_KEY_GRACE_MS = 24 * 60 * 60_000;

/** One model-signing key in the ring. */
export interface SigningKeyRow {
  kid: string;
  /** Public JWK (JSON text), as published in the JWKS. */
  public_jwk: string;
  /** Private JWK (JSON text) while current; null once retired, or for the genesis key (held in the secret). */
  private_jwk: string | null;
  created_at: number;
  retired_at: number | null;
  /** When the first model signed by a newer key was published; null until then. */
  superseded_at: number | null;
}

/** One HPKE key in the ring. */
export interface HpkeKeyRow {
  config_id: number;
  /** The public config, as published and pinned. */
  config: HpkeConfig;
  /** Private JWK (JSON text); null for the genesis key (held in the secret). */
  private_jwk: string | null;
  created_at: number;
  retired_at: number | null;
}

/** What a round contributes to the HPKE retention rule. */
export interface RoundKeyUse {
  state: string;
  /** Epoch seconds, as in round descriptors. */
  closes_at: number;
  /** This aggregator's config id the round names. */
  config_id: number;
}

function byNewest<T extends { created_at: number }>(a: T, b: T): number {
  return b.created_at - a.created_at;
}

/**
 * The current key of a ring (the one row not retired), or null while the ring is
 * empty and the secret's key is current.
 *
 * @example
 * const current = currentKey(rows) ?? genesis;
 */
export function currentKey<T extends { retired_at: number | null; created_at: number }>(rows: readonly T[]): T | null {
  return [...rows].sort(byNewest).find((r) => r.retired_at === null) ?? null;
}

/**
 * The ring after a signing rotation at `now`: the genesis key is recorded (retired) on
 * the first rotation, the current key is retired and its private half dropped, keys past
 * their retention are forgotten, and `next` becomes current.
 *
 * @example
 * const rows = rotateSigningRows(rows, { kid, public_jwk }, next, Date.now());
 */
export function rotateSigningRows(
  rows: readonly SigningKeyRow[],
  genesis: { kid: string; public_jwk: string },
  next: { kid: string; public_jwk: string; private_jwk: string },
  now: number,
): SigningKeyRow[] {
  const existing = rows.length ? rows : [{ ...genesis, private_jwk: null, created_at: 0, retired_at: null, superseded_at: null }];
  if (existing.some((r) => r.kid === next.kid)) throw new RangeError(`signing key ${next.kid} is already in the ring`);
  const retired = existing.map((r) => (r.retired_at === null ? { ...r, private_jwk: null, retired_at: now } : r));
  return [...retired.filter((r) => isSigningKeyPublished(r, now)), { ...next, created_at: now, retired_at: null, superseded_at: null }];
}

/**
 * The ring after a model signed by `kid` was published at `at`: every retired key older
 * than `kid` counts as superseded from then on (the earliest such time is kept).
 *
 * @example
 * const rows = supersedeSigningRows(rows, 'model-ab12', Date.now());
 */
export function supersedeSigningRows(rows: readonly SigningKeyRow[], kid: string, at: number): SigningKeyRow[] {
  const signer = rows.find((r) => r.kid === kid);
  if (!signer) return [...rows];
  return rows.map((r) => (r.retired_at !== null && r.superseded_at === null && r.created_at < signer.created_at ? { ...r, superseded_at: at } : r));
}

function isSigningKeyPublished(r: SigningKeyRow, now: number): boolean {
  return r.retired_at === null || r.superseded_at === null || now < r.superseded_at + SIGNING_RETENTION_MS;
}

/**
 * The signing keys to publish in the JWKS at `now`: the current key first, then the
 * retired keys still within retention, newest first.
 *
 * @example
 * const jwks = { keys: publishedSigningKeys(rows, Date.now()).map((r) => JSON.parse(r.public_jwk)) };
 */
export function publishedSigningKeys(rows: readonly SigningKeyRow[], now: number): SigningKeyRow[] {
  return [...rows].sort(byNewest).filter((r) => isSigningKeyPublished(r, now));
}

/**
 * The config id for a new HPKE key: the one after the last issued (mod 256), skipping
 * ids still in the ring, so a forgotten id is not reused before all others were.
 *
 * @example
 * nextConfigId([1, 2], 2) // 3
 */
export function nextConfigId(inUse: readonly number[], lastIssued: number | null): number {
  const used = new Set(inUse);
  const start = lastIssued ?? Math.max(-1, ...inUse);
  for (let step = 1; step <= 256; step++) {
    const id = (((start + step) % 256) + 256) % 256;
    if (!used.has(id)) return id;
  }
  throw new RangeError('all 256 HPKE config ids are in use: no key can be retired before its rounds close');
}

/**
 * The HPKE config ids that open rounds still name at `now`: rounds open or closing, up to
 * {@link ROUND_KEY_GRACE_MS} past their close time.
 *
 * @example
 * const needed = neededConfigIds([{ state: 'open', closes_at: 1_900_000_000, config_id: 1 }], Date.now());
 */
export function neededConfigIds(rounds: readonly RoundKeyUse[], now: number): Set<number> {
  return new Set(rounds.filter((r) => (r.state === 'open' || r.state === 'closing') && now < r.closes_at * 1000 + ROUND_KEY_GRACE_MS).map((r) => r.config_id));
}

function isHpkeKeyKept(r: HpkeKeyRow, needed: ReadonlySet<number>, now: number): boolean {
  return r.retired_at === null || needed.has(r.config_id) || now < r.retired_at + HPKE_RETIRED_MIN_MS;
}

/**
 * The ring after an HPKE rotation at `now`: the genesis key is recorded (retired) on the
 * first rotation, the current key retired, `next` (its config id already chosen with
 * {@link nextConfigId}) becomes current.
 *
 * @example
 * const rows = rotateHpkeRows(rows, genesisConfig, { config, private_jwk }, Date.now());
 */
export function rotateHpkeRows(rows: readonly HpkeKeyRow[], genesis: HpkeConfig, next: { config: HpkeConfig; private_jwk: string }, now: number): HpkeKeyRow[] {
  const existing = rows.length ? rows : [{ config_id: genesis.config_id, config: genesis, private_jwk: null, created_at: 0, retired_at: null }];
  if (existing.some((r) => r.config_id === next.config.config_id)) throw new RangeError(`HPKE config ${next.config.config_id} is already in the ring`);
  const retired = existing.map((r) => (r.retired_at === null ? { ...r, retired_at: now } : r));
  return [...retired, { config_id: next.config.config_id, config: next.config, private_jwk: next.private_jwk, created_at: now, retired_at: null }];
}

/**
 * The HPKE keys to keep (and publish) at `now`, current first then retired newest first:
 * the current key, and each retired key that an open round names or that was retired
 * less than {@link HPKE_RETIRED_MIN_MS} ago. Every other row may be deleted.
 *
 * @example
 * const configs = keptHpkeKeys(rows, neededConfigIds(rounds, now), now).map((r) => r.config);
 */
export function keptHpkeKeys(rows: readonly HpkeKeyRow[], needed: ReadonlySet<number>, now: number): HpkeKeyRow[] {
  return [...rows].sort(byNewest).filter((r) => isHpkeKeyKept(r, needed, now));
}

/**
 * The key that opens a share sealed to `configId` in a round that names `roundConfigId`:
 * the current key, or the retired key the round itself names; null for anything else
 * (an unknown id, or a retired key of another round).
 *
 * @example
 * const row = hpkeKeyForShare(rows, sealed.config_id, round.hpke.leader.config_id);
 */
export function hpkeKeyForShare(rows: readonly HpkeKeyRow[], configId: number, roundConfigId: number | null): HpkeKeyRow | null {
  const row = rows.find((r) => r.config_id === configId);
  if (!row) return null;
  return row.retired_at === null || configId === roundConfigId ? row : null;
}
