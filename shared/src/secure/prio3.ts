/**
 * Prio3 validity proofs for every secure report (`@divviup/prio3`, VDAF draft 08), as
 * DAP deployments use them: the device shards its measurement into two input shares and
 * a public share; each aggregator prepares its input share into a preparation share;
 * the leader sends its preparation share to the helper, which combines both (the proof
 * is checked here: a report that is not a valid measurement fails), finishes, and tells
 * the leader the outcome; each aggregator then sums only its output shares of verified
 * reports.
 *
 * Which VDAF a round uses follows from its kind and shape alone (both aggregators and
 * every device derive it the same way, and the round digest binds kind, k and d):
 * - counts: `Prio3Histogram` over the k + 1 entries of the one-hot vector (each device
 *   adds exactly 1 to exactly one entry);
 * - k-means: `Prio3SumVec` over the k·(d + 3) entries, each proved to be in
 *   [0, 2^{@link SUMVEC_BITS}): the device sends its signed encoding plus
 *   {@link SUMVEC_OFFSET}, and the aggregate subtracts offset × count. So one report moves
 *   any entry of any released sum by at most {@link SUMVEC_OFFSET} integer units, and an
 *   honest one by at most `encoding.bound` (which a secure k-means round keeps below the
 *   offset).
 *
 * The helper's input share travels as the three 16-byte seeds Prio3 defines; it is
 * expanded here with the library's own XOF and domain separation (decoding the wire
 * format, not re-implementing the proof system).
 */
import { Prio3Histogram, Prio3SumVec } from '@divviup/prio3';
import { Buffer } from 'buffer';
import { cryptoRandom, type RandomSource } from '../random.ts';
import type { RoundKind } from '../rounds.ts';
import { utf8 } from './bytes.ts';
import { FIELD, FIELD_ELEMENT_BYTES, decodeFieldVector } from './field.ts';
import { subtle, type CryptoKeyLike } from './webcrypto.ts';

/** Bits per entry of a k-means `Prio3SumVec`: entries are proved to lie in [0, 256). */
export const SUMVEC_BITS = 8;
/** Added to each signed k-means entry so it is non-negative: 2^(bits − 1). */
export const SUMVEC_OFFSET = 2 ** (SUMVEC_BITS - 1);
/** Bytes of a Prio3 nonce (derived from round and report id, see {@link reportNonce}). */
export const NONCE_BYTES = 16;
/** Bytes of the verify key the two aggregators share per round (the XOF seed size). */
export const VERIFY_KEY_BYTES = 16;
/** Bytes of a Prio3 seed (XofTurboShake128). */
const SEED = 16;
/** VDAF-08 usages used to expand the helper's seeds (draft-irtf-cfrg-vdaf-08 §7.2). */
const USAGE_MEASUREMENT_SHARE = 1;
const USAGE_PROOF_SHARE = 2;

/** The VDAF of a round: a histogram (counts) or a bounded vector sum (k-means). */
export type ReportVdaf = Prio3Histogram | Prio3SumVec;

/** One aggregator's view of a report after `prepareInit`. */
export interface PreparedReport {
  /** This aggregator's output share (valid only once the report is verified). */
  outputShare: bigint[];
  /** The joint-randomness seed this aggregator expects the preparation message to carry. */
  jointRandSeed: Uint8Array;
  /** This aggregator's encoded preparation share. */
  prepShare: Uint8Array;
}

const cache = new Map<string, ReportVdaf>();

/** A chunk length near √(entries · bits), which minimises proof size for these circuits. */
function chunkLength(entries: number): number {
  return Math.max(1, Math.round(Math.sqrt(entries)));
}

/**
 * The VDAF every party uses for a round of `kind` with k centroids of d features
 * (memoised: one instance per shape).
 *
 * @example
 * const vdaf = vdafFor('counts', 8, 0); // Prio3Histogram of 9 entries
 */
export function vdafFor(kind: RoundKind, k: number, d: number): ReportVdaf {
  const key = `${kind}:${k}:${d}`;
  let v = cache.get(key);
  if (!v) {
    if (kind === 'counts') v = new Prio3Histogram({ shares: 2, length: k + 1, chunkLength: chunkLength(k + 1) });
    else {
      const length = k * (d + 3);
      v = new Prio3SumVec({ shares: 2, length, bits: SUMVEC_BITS, chunkLength: chunkLength(length * SUMVEC_BITS) });
    }
    cache.set(key, v);
  }
  return v;
}

/**
 * The Prio3 measurement of an encoded contribution vector: the index of the one-hot
 * entry (counts), or every entry plus {@link SUMVEC_OFFSET} (k-means). Throws when the
 * vector is not a valid measurement (an honest encoding always is).
 *
 * @example
 * measurementOf('counts', encodeCountContribution(2, 8, 1)) // 2
 */
export function measurementOf(kind: RoundKind, vector: Int32Array): number | number[] {
  if (kind === 'counts') {
    let index = -1;
    for (let i = 0; i < vector.length; i++) {
      const x = vector[i] as number;
      if (x === 0) continue;
      if (x !== 1 || index >= 0) throw new RangeError('measurementOf: a counts vector must be one-hot with value 1');
      index = i;
    }
    if (index < 0) throw new RangeError('measurementOf: a counts vector must be one-hot with value 1');
    return index;
  }
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = (vector[i] as number) + SUMVEC_OFFSET;
    if (x < 0 || x >= 2 ** SUMVEC_BITS) throw new RangeError(`measurementOf: entry ${i} = ${vector[i]} is outside [−${SUMVEC_OFFSET}, ${SUMVEC_OFFSET})`);
    out[i] = x;
  }
  return out;
}

/**
 * The Prio3 nonce of a report: the first 16 bytes of SHA-256 over a label, the round id
 * and the report id. Every party derives it; nothing else in the report carries it.
 *
 * @example
 * const nonce = await reportNonce('r-1', 'q3v0X1lq0VbQm7x4Zk2l8A');
 */
export async function reportNonce(roundId: string, id: string): Promise<Uint8Array<ArrayBuffer>> {
  const digest = await subtle().digest('SHA-256', utf8(`edgeseg/v3 nonce\0${roundId}\0${id}`));
  return new Uint8Array(digest, 0, NONCE_BYTES).slice();
}

/**
 * The group of a report, derived by both aggregators from its id with a key the device
 * never sees (the round's verify key): HMAC-SHA256(key, label ‖ id), first 4 bytes
 * big-endian, mod `groups`. A device can neither choose its group nor grind ids for one.
 *
 * @example
 * const group = await reportGroup(verifyKey, id, round.groups);
 */
export async function reportGroup(verifyKey: Uint8Array, id: string, groups: number): Promise<number> {
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`reportGroup: bad groups ${groups}`);
  if (groups === 1) return 0;
  const mac = new DataView(await subtle().sign('HMAC', await groupKey(verifyKey), utf8(`edgeseg/v3 group\0${id}`)));
  return mac.getUint32(0) % groups;
}

/** Verify keys whose imported HMAC key is kept: a few open rounds at a time. */
const GROUP_KEYS_KEPT = 16;
/** Imported HMAC keys by verify key (hex), oldest first: every report of a round names the same key, so it is imported once per round, not per report. */
const groupKeys = new Map<string, Promise<CryptoKeyLike>>();

function groupKey(verifyKey: Uint8Array): Promise<CryptoKeyLike> {
  const name = Array.from(verifyKey, (b) => b.toString(16).padStart(2, '0')).join('');
  let key = groupKeys.get(name);
  if (!key) {
    key = subtle().importKey('raw', verifyKey.slice(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    key.catch(() => groupKeys.delete(name));
    groupKeys.set(name, key);
    if (groupKeys.size > GROUP_KEYS_KEPT) groupKeys.delete(groupKeys.keys().next().value as string);
  }
  return key;
}

/**
 * A fresh per-round verify key for the two aggregators (never shown to devices).
 *
 * @example
 * const verifyKey = newVerifyKey();
 */
export function newVerifyKey(random: RandomSource = cryptoRandom): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(VERIFY_KEY_BYTES / 4);
  random(words);
  return new Uint8Array(words.buffer);
}

/**
 * Shards a measurement on the device: the encoded public share and the two encoded
 * input shares (the leader's carries its measurement and proof shares; the helper's is
 * three 16-byte seeds). `random` must be the CSPRNG outside tests.
 *
 * @example
 * const { publicShare, leader, helper } = await shardReport(vdaf, measurementOf(kind, v), nonce);
 */
export async function shardReport(
  vdaf: ReportVdaf,
  measurement: number | number[],
  nonce: Uint8Array,
  random: RandomSource = cryptoRandom,
): Promise<{ publicShare: Uint8Array; leader: Uint8Array; helper: Uint8Array }> {
  const words = new Uint32Array(Math.ceil(vdaf.randSize / 4));
  random(words);
  const rand = new Uint8Array(words.buffer, 0, vdaf.randSize);
  const nonceBuf = Buffer.from(nonce);
  const shards =
    vdaf instanceof Prio3Histogram
      ? await vdaf.shard(measurement as number, nonceBuf, Buffer.from(rand))
      : await (vdaf as Prio3SumVec).shard(measurement as number[], nonceBuf, Buffer.from(rand));
  const [leader, helper] = shards.inputShares;
  if (!leader || !helper) throw new Error('shardReport: the VDAF did not produce two input shares');
  return {
    publicShare: new Uint8Array(vdaf.encodePublicShare(shards.publicShare)),
    leader: new Uint8Array(vdaf.encodeInputShare(leader)),
    helper: new Uint8Array(vdaf.encodeInputShare(helper)),
  };
}

/**
 * Bytes of an encoded input share for aggregator 0 (leader) or 1 (helper), and of the
 * public share: what a parser checks ciphertext lengths against.
 *
 * @example
 * reportSizes(vdafFor('counts', 8, 0)).helper // 48
 */
export function reportSizes(vdaf: ReportVdaf): { leader: number; helper: number; publicShare: number; prepShare: number } {
  const { flp, proofs } = vdaf;
  return {
    leader: (flp.measurementLen + flp.proofLen * proofs) * FIELD_ELEMENT_BYTES + SEED,
    helper: 3 * SEED,
    publicShare: 2 * SEED,
    prepShare: flp.verifierLen * proofs * FIELD_ELEMENT_BYTES + SEED,
  };
}

/** The library's input share shape, rebuilt from its wire encoding. */
type InputShare = Parameters<ReportVdaf['prepareInit']>[5];

async function decodeInputShare(vdaf: ReportVdaf, aggregatorId: 0 | 1, bytes: Uint8Array): Promise<InputShare> {
  const sizes = reportSizes(vdaf);
  const { flp, proofs } = vdaf;
  if (bytes.length !== (aggregatorId === 0 ? sizes.leader : sizes.helper)) throw new RangeError(`input share of ${bytes.length} bytes, expected ${aggregatorId === 0 ? sizes.leader : sizes.helper}`);
  const buf = Buffer.from(bytes);
  if (aggregatorId === 0) {
    const m = flp.measurementLen * FIELD_ELEMENT_BYTES;
    const p = flp.proofLen * proofs * FIELD_ELEMENT_BYTES;
    const wireMeasurementShare = buf.subarray(0, m);
    const wireProofShare = buf.subarray(m, m + p);
    return {
      measurementShare: decodeFieldVector(wireMeasurementShare),
      proofsShare: decodeFieldVector(wireProofShare),
      wireMeasurementShare,
      wireProofShare,
      blind: buf.subarray(m + p),
    };
  }
  const [kMeasurement, kProof, blind] = [buf.subarray(0, SEED), buf.subarray(SEED, 2 * SEED), buf.subarray(2 * SEED)];
  const xof = vdaf.xof;
  const measurementShare = await xof.expandIntoVec(FIELD, kMeasurement, vdaf.domainSeparationTag(USAGE_MEASUREMENT_SHARE), Buffer.of(1), flp.measurementLen);
  const proofsShare = await xof.expandIntoVec(FIELD, kProof, vdaf.domainSeparationTag(USAGE_PROOF_SHARE), Buffer.from([proofs, 1]), flp.proofLen * proofs);
  return { measurementShare, proofsShare, wireMeasurementShare: kMeasurement, wireProofShare: kProof, blind };
}

/**
 * One aggregator's first preparation step on a report it opened: decodes its input
 * share (refusing a wrong length or an unreduced field element) and the public share,
 * and runs `prepareInit`. The verify key is the round's, shared by both aggregators.
 *
 * @example
 * const mine = await prepareReport(vdaf, verifyKey, 0, nonce, publicShare, leaderInputShare);
 */
export async function prepareReport(
  vdaf: ReportVdaf,
  verifyKey: Uint8Array,
  aggregatorId: 0 | 1,
  nonce: Uint8Array,
  publicShare: Uint8Array,
  inputShare: Uint8Array,
): Promise<PreparedReport> {
  if (publicShare.length !== reportSizes(vdaf).publicShare) throw new RangeError(`public share of ${publicShare.length} bytes, expected ${reportSizes(vdaf).publicShare}`);
  if (verifyKey.length !== VERIFY_KEY_BYTES) throw new RangeError(`verify key of ${verifyKey.length} bytes, expected ${VERIFY_KEY_BYTES}`);
  const share = await decodeInputShare(vdaf, aggregatorId, inputShare);
  const pub = Buffer.from(publicShare);
  const jointRandParts = [Buffer.from(pub.subarray(0, SEED)), Buffer.from(pub.subarray(SEED))];
  const { preparationState, preparationShare } = await vdaf.prepareInit(Buffer.from(verifyKey), aggregatorId, null, Buffer.from(nonce), { jointRandParts }, share);
  return {
    outputShare: preparationState.outputShare,
    jointRandSeed: new Uint8Array(preparationState.correctedJointRandSeed),
    prepShare: new Uint8Array(vdaf.encodePreparationShare(preparationShare)),
  };
}

function decodePrepShare(vdaf: ReportVdaf, bytes: Uint8Array): { verifiersShare: bigint[]; jointRandomnessPart: Buffer } {
  const size = reportSizes(vdaf).prepShare;
  if (bytes.length !== size) throw new RangeError(`preparation share of ${bytes.length} bytes, expected ${size}`);
  return { verifiersShare: decodeFieldVector(bytes.subarray(0, size - SEED)), jointRandomnessPart: Buffer.from(bytes.subarray(size - SEED)) };
}

/**
 * The helper's decision on a report: combines both preparation shares (the proof is
 * checked here) into the preparation message, and checks that it carries the joint
 * randomness both aggregators expect (so the device used the same measurement shares
 * for the proof as it sent). Returns true only for a valid report; any malformed share
 * is simply invalid.
 *
 * @example
 * const valid = await verifyReport(vdaf, leaderPrepShare, helper.prepShare, leaderSeed, helper.jointRandSeed);
 */
export async function verifyReport(
  vdaf: ReportVdaf,
  leaderPrepShare: Uint8Array,
  helperPrepShare: Uint8Array,
  leaderJointRandSeed: Uint8Array,
  helperJointRandSeed: Uint8Array,
): Promise<boolean> {
  let message: Uint8Array;
  try {
    const prep = await vdaf.unshardPreparationShares(null, [decodePrepShare(vdaf, leaderPrepShare), decodePrepShare(vdaf, helperPrepShare)]);
    message = new Uint8Array(prep.jointRand);
  } catch {
    return false;
  }
  return bytesEqual(message, leaderJointRandSeed) && bytesEqual(message, helperJointRandSeed);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * The released sums of a bucket from the two shares' combined signed values: a k-means
 * round's entries were sent with {@link SUMVEC_OFFSET} added, so offset × count comes
 * off each entry (count = the bucket's verified reports, which both aggregators agree
 * on); counts rounds are already plain sums. In place; returns the same array.
 *
 * @example
 * const sums = removeOffset('kmeans', combineFieldShares(leader, helper), bucket.count);
 */
export function removeOffset(kind: RoundKind, combined: Float64Array, count: number): Float64Array {
  if (kind === 'kmeans') for (let i = 0; i < combined.length; i++) combined[i] = (combined[i] as number) - SUMVEC_OFFSET * count;
  return combined;
}
