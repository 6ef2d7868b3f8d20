/**
 * The preparation exchange on the leader ↔ helper wire (`POST /internal/v1/shares`): per
 * report, what the helper needs to prepare its own input share and decide validity (the
 * report's binding, the helper's still-sealed input share, and the leader's preparation
 * share and joint-randomness seed), and the helper's answer (`verified` / `rejected`
 * ids). Both roles read it, so it lives beside the round logic. Pure.
 */
import { isIntIn, isObject, type RoundDescriptor, type SealedShare } from '@edgeseg/shared';
import {
  base64urlLength,
  base64urlToBytes,
  CONTRIBUTION_ID_PATTERN,
  HPKE_ENC_BYTES,
  isBase64url,
  reportSizes,
  secureReportBytes,
  vdafFor,
} from '@edgeseg/shared/secure';

/** One report as the leader relays it to the helper. */
export interface RelayItem {
  id: string;
  slice: number;
  /** The report's public share (base64url), as the device sent it. */
  public_share: string;
  /** The helper's input share, still sealed to the helper's key. */
  sealed: SealedShare;
  /** The leader's encoded preparation share (base64url). */
  prep_share: string;
  /** The joint-randomness seed the leader expects (base64url). */
  joint_rand_seed: string;
}

/** A relayed item with its binary fields decoded and every length checked. */
export interface CheckedRelayItem {
  id: string;
  slice: number;
  /** base64url, as the device sent it (the aad binds this string). */
  public_share: string;
  publicShare: Uint8Array;
  sealed: SealedShare;
  prepShare: Uint8Array;
  jointRandSeed: Uint8Array;
}

/** The helper's answer to a batch: ids of this batch whose report verified, and those whose report did not. */
export interface RelayAnswer {
  verified: string[];
  rejected: string[];
}

/** Most bytes of a joint-randomness seed (Prio3's seeds are 16). */
const MAX_SEED_BYTES = 32;

function bytesOf(v: unknown, bytes: number | null): Uint8Array | null {
  if (!isBase64url(v)) return null;
  if (bytes !== null && v.length !== base64urlLength(bytes)) return null;
  try {
    return base64urlToBytes(v);
  } catch {
    return null;
  }
}

/**
 * Checks one relayed item against the round: any malformed part (null, wrong types,
 * lengths other than the round's VDAF's) makes it null, so the caller rejects that item
 * alone.
 *
 * @example
 * const item = checkRelayItem(raw, round.descriptor);
 * if (!item) rejected.push(idOf(raw, i));
 */
export function checkRelayItem(raw: unknown, round: Pick<RoundDescriptor, 'kind' | 'k' | 'd' | 'slices'>): CheckedRelayItem | null {
  if (!isObject(raw)) return null;
  const { id, slice, sealed } = raw;
  if (typeof id !== 'string' || !CONTRIBUTION_ID_PATTERN.test(id)) return null;
  if (!isIntIn(slice, 0, round.slices.length - 1)) return null;
  const sizes = secureReportBytes(round.kind, round.k, round.d);
  const publicShare = bytesOf(raw.public_share, sizes.publicShare);
  const prepShare = bytesOf(raw.prep_share, reportSizes(vdafFor(round.kind, round.k, round.d)).prepShare);
  const jointRandSeed = bytesOf(raw.joint_rand_seed, null);
  if (!publicShare || !prepShare || !jointRandSeed || jointRandSeed.length > MAX_SEED_BYTES) return null;
  if (!isObject(sealed) || !isIntIn(sealed.config_id, 0, 255)) return null;
  if (!isBase64url(sealed.enc) || sealed.enc.length !== base64urlLength(HPKE_ENC_BYTES)) return null;
  if (!isBase64url(sealed.ct) || sealed.ct.length !== base64urlLength(sizes.helper)) return null;
  return { id, slice, public_share: raw.public_share as string, publicShare, sealed: { config_id: sealed.config_id, enc: sealed.enc, ct: sealed.ct }, prepShare, jointRandSeed };
}

/**
 * The id to name a relayed item by in the answer: its own when it has a string one,
 * else its position (so even a null item gets an answer and nothing throws).
 *
 * @example
 * relayItemId(null, 3) // 'items[3]'
 */
export function relayItemId(raw: unknown, index: number): string {
  return isObject(raw) && typeof raw.id === 'string' ? raw.id : `items[${index}]`;
}

/**
 * Reads the helper's answer to a batch as untrusted input: only ids of this batch count,
 * an id in both lists counts as rejected, and anything unreadable is null (the batch
 * stays pending and is retried).
 *
 * @example
 * const answer = parseRelayAnswer(await res.json(), new Set(items.map((i) => i.id)));
 */
export function parseRelayAnswer(body: unknown, sent: ReadonlySet<string>): RelayAnswer | null {
  if (!isObject(body) || !Array.isArray(body.verified) || !Array.isArray(body.rejected)) return null;
  const ofBatch = (list: unknown[]) => [...new Set(list.filter((x): x is string => typeof x === 'string' && sent.has(x)))];
  const rejected = ofBatch(body.rejected);
  const bad = new Set(rejected);
  return { verified: ofBatch(body.verified).filter((id) => !bad.has(id)), rejected };
}
