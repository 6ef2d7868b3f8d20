/**
 * A device's secure contribution end to end (encode → split → seal), and the runtime
 * validators of the round wire contract (`rounds.ts`) in the house style: closed
 * objects, integer ranges, base64url charset and exact ciphertext lengths.
 */
import { flattenCentroids } from '../assign.ts';
import { isPeriod } from '../period.ts';
import { cryptoRandom, randomBelow, type RandomSource } from '../random.ts';
import type { HpkeConfig, LocalContribution, RoundDescriptor, SecureContribution } from '../rounds.ts';
import { isIntIn, isNumberIn, isObject, unknownKeys, type Checked, type JsonObject } from '../validate.ts';
import type { RoundKind } from '../rounds.ts';
import { base64urlLength, base64urlToBytes, bytesToBase64url, isBase64url } from './bytes.ts';
import { encodeCountContribution, encodeKmeansContribution, encodingScales, validateEncoding, vectorLength } from './encode.ts';
import { CONTRIBUTION_INFO, HPKE_ENC_BYTES, HPKE_TAG_BYTES, contributionAad, sealShare } from './hpke.ts';
import { SUMVEC_OFFSET, measurementOf, reportNonce, reportSizes, shardReport, vdafFor } from './prio3.ts';
import { roundDigest } from './round-digest.ts';

/** Most centroids a round may have. */
export const MAX_K = 64;
/** Most features a round may have. */
export const MAX_D = 128;
/** Most candidate slices a round may run. */
export const MAX_SLICES = 16;
/** Most device groups per slice. */
export const MAX_GROUPS = 1024;
/** Longest contribution vector: k·(d + 3) must not exceed it. */
export const MAX_VECTOR_LENGTH = 4096;

/** A round id: 1–64 characters of [A-Za-z0-9._:-]. */
export const ROUND_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** A contribution id: 16–64 characters of [A-Za-z0-9_-] (random, never derived from the device). */
export const CONTRIBUTION_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

const CONTRIBUTION_FIELDS = ['round_id', 'id', 'slice', 'public_share', 'leader', 'helper'] as const;
const LOCAL_FIELDS = ['round_id', 'id', 'slice', 'noised'] as const;
const SEALED_FIELDS = ['config_id', 'enc', 'ct'] as const;
const CONFIG_FIELDS = ['config_id', 'kem_id', 'kdf_id', 'aead_id', 'public_key'] as const;
const ROUND_FIELDS = [
  'round_id', 'kind', 'mode', 'model_version', 'k', 'd', 'slices', 'groups', 'encoding',
  'epsilon', 'delta', 'local_sigma2', 'opens_at', 'closes_at', 'period', 'measure', 'min_batch', 'hpke',
] as const;

/**
 * True when HPKE config `a` is present and names exactly the key and suite of `b`
 * (config id, suite ids and public key).
 *
 * @example
 * sameHpkeConfig(round.hpke.helper, pinnedHelper)
 */
export function sameHpkeConfig(a: HpkeConfig | undefined, b: HpkeConfig | undefined): boolean {
  return !!a && !!b && CONFIG_FIELDS.every((f) => a[f] === b[f]);
}

/**
 * Most bytes of a secure `POST /v1/contributions` body a round may need: a round whose
 * leader input share would not fit is refused by {@link parseRoundDescriptor}.
 */
export const MAX_CONTRIBUTION_BODY_BYTES = 160 * 1024;

/**
 * Longest k-means vector a secure round may have: its report (8 field elements of 16
 * bytes per entry, plus the proof, in base64url) must fit {@link MAX_CONTRIBUTION_BODY_BYTES}.
 * A plain limit rather than the VDAF's exact size, so that validating a descriptor does
 * not load the Prio3 library (the local-mode chunk validates rounds too); a unit test
 * checks the exact size of the longest such report against the cap.
 */
export const MAX_SECURE_KMEANS_LENGTH = 880;

/**
 * Exact ciphertext bytes of a secure report's two sealed input shares and its public
 * share, for a round of `kind` with k centroids of d features.
 *
 * @example
 * secureReportBytes('counts', 8, 0).helper // 64: three 16-byte seeds and the AEAD tag
 */
export function secureReportBytes(kind: RoundKind, k: number, d: number): { leader: number; helper: number; publicShare: number } {
  const sizes = reportSizes(vdafFor(kind, k, d));
  return { leader: sizes.leader + HPKE_TAG_BYTES, helper: sizes.helper + HPKE_TAG_BYTES, publicShare: sizes.publicShare };
}

/**
 * Shards an already encoded vector into a Prio3 report for a secure round and seals
 * each input share to its aggregator, with an aad binding round, id, slice, role, the
 * public share and the digest of the whole descriptor ({@link roundDigest}). The slice
 * (unless given: a k-means vector is encoded against its slice) is drawn from `random`;
 * the group is not the device's to choose (the aggregators derive it from the id).
 *
 * @example
 * const body = await sealSecureVector(round, encodeCountContribution(segment, round.k, 1), newId());
 */
export async function sealSecureVector(
  round: RoundDescriptor,
  vector: Int32Array,
  id: string,
  random: RandomSource = cryptoRandom,
  slice: number = randomBelow(round.slices.length, random),
): Promise<SecureContribution> {
  const helperConfig = round.hpke.helper;
  if (round.mode !== 'secure' || !helperConfig) throw new RangeError(`round ${round.round_id} is not a secure round with a helper`);
  const expected = vectorLength(round.kind, round.k, round.d);
  if (vector.length !== expected) throw new RangeError(`sealSecureVector: vector of ${vector.length} entries, round expects ${expected}`);
  if (!Number.isInteger(slice) || slice < 0 || slice >= round.slices.length) throw new RangeError(`sealSecureVector: slice ${slice} is not in [0, ${round.slices.length})`);
  const vdaf = vdafFor(round.kind, round.k, round.d);
  const report = await shardReport(vdaf, measurementOf(round.kind, vector), await reportNonce(round.round_id, id), random);
  const public_share = bytesToBase64url(report.publicShare);
  const binding = { round_id: round.round_id, id, slice, public_share };
  const digest = await roundDigest(round);
  const [leaderSealed, helperSealed] = await Promise.all([
    sealShare(round.hpke.leader, report.leader, CONTRIBUTION_INFO, contributionAad(binding, 'leader', digest)),
    sealShare(helperConfig, report.helper, CONTRIBUTION_INFO, contributionAad(binding, 'helper', digest)),
  ]);
  return { ...binding, leader: leaderSealed, helper: helperSealed };
}

/**
 * A device's whole secure k-means contribution: draws a slice, encodes `x` against that
 * slice's centroids, shards with a validity proof and seals. Returns the request body
 * and the segment it contributed to (nearest centroid of the clipped `x`).
 *
 * @example
 * const { body } = await buildSecureContribution(round, features, newId());
 * await fetch('/v1/contributions', { method: 'POST', body: JSON.stringify(body) });
 */
export async function buildSecureContribution(
  round: RoundDescriptor,
  x: Float32Array,
  id: string,
  random: RandomSource = cryptoRandom,
): Promise<{ body: SecureContribution; segment: number }> {
  if (round.kind !== 'kmeans') throw new RangeError(`buildSecureContribution: round ${round.round_id} is a ${round.kind} round`);
  if (x.length !== round.d) throw new RangeError(`buildSecureContribution: x has ${x.length} features, round expects ${round.d}`);
  const slice = randomBelow(round.slices.length, random);
  const centroids = round.slices[slice] ?? [];
  if (centroids.length !== round.k) throw new RangeError(`buildSecureContribution: slice ${slice} has ${centroids.length} centroids, round expects ${round.k}`);
  const { vector, segment } = encodeKmeansContribution(x, flattenCentroids(centroids), round.encoding, random);
  return { body: await sealSecureVector(round, vector, id, random, slice), segment };
}

/**
 * A device's secure counts-round contribution: its segment (or `null`) one-hot, as a
 * Prio3 histogram report.
 *
 * @example
 * const body = await buildSecureCountContribution(round, currentSegment, newId());
 */
export async function buildSecureCountContribution(round: RoundDescriptor, segment: number | null, id: string, random: RandomSource = cryptoRandom): Promise<SecureContribution> {
  if (round.kind !== 'counts') throw new RangeError(`buildSecureCountContribution: round ${round.round_id} is a ${round.kind} round`);
  return sealSecureVector(round, encodeCountContribution(segment, round.k, round.encoding.bound), id, random);
}

/**
 * Checks an untrusted secure `POST /v1/contributions` body. With `round` the ciphertext
 * and public-share lengths must be exactly those of the round's VDAF; without it, the
 * leader ciphertext may be anything up to {@link MAX_CONTRIBUTION_BODY_BYTES}. The slice
 * is checked against the round by the caller.
 *
 * @example
 * const r = parseSecureContribution(await request.json(), round);
 */
export function parseSecureContribution(v: unknown, round?: Pick<RoundDescriptor, 'kind' | 'k' | 'd'>): Checked<SecureContribution> {
  if (!isObject(v)) return { ok: false, errors: ['body: must be a JSON object'] };
  const errors = unknownKeys(v, CONTRIBUTION_FIELDS).map((k) => `${k}: unknown field`);
  checkBinding(v, errors);
  const sizes = round ? secureReportBytes(round.kind, round.k, round.d) : null;
  const publicChars = base64urlLength(sizes ? sizes.publicShare : 32);
  if (!isBase64url(v.public_share) || v.public_share.length !== publicChars) errors.push(`public_share: must be base64url of exactly ${publicChars} characters`);
  checkSealed(v.leader, 'leader', errors, sizes ? base64urlLength(sizes.leader) : [1, MAX_CONTRIBUTION_BODY_BYTES]);
  checkSealed(v.helper, 'helper', errors, base64urlLength(sizes ? sizes.helper : 3 * 16 + HPKE_TAG_BYTES));
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as SecureContribution };
}

/**
 * Checks an untrusted local-mode `POST /v1/contributions` body: `noised` must hold
 * exactly `expectedLength` int32 values.
 *
 * @example
 * const r = parseLocalContribution(await request.json(), vectorLength(round.kind, round.k, round.d));
 */
export function parseLocalContribution(v: unknown, expectedLength: number): Checked<LocalContribution> {
  if (!isObject(v)) return { ok: false, errors: ['body: must be a JSON object'] };
  const errors = unknownKeys(v, LOCAL_FIELDS).map((k) => `${k}: unknown field`);
  checkBinding(v, errors);
  const noised = v.noised;
  if (!Array.isArray(noised) || noised.length !== expectedLength) errors.push(`noised: must be an array of ${expectedLength} integers`);
  else {
    const bad = noised.findIndex((x) => !isIntIn(x, -(2 ** 31), 2 ** 31 - 1));
    if (bad >= 0) errors.push(`noised[${bad}]: must be an int32`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as LocalContribution };
}

/**
 * Checks an untrusted `HpkeConfig`: the one suite we speak, a 65-byte uncompressed point.
 *
 * @example
 * const r = parseHpkeConfig(config);
 */
export function parseHpkeConfig(v: unknown, at = 'config'): Checked<HpkeConfig> {
  const errors: string[] = [];
  checkConfig(v, at, errors);
  return errors.length ? { ok: false, errors } : { ok: true, value: v as HpkeConfig };
}

/**
 * Checks an untrusted round descriptor (`GET /v1/rounds/current`), shapes included:
 * every slice holds k centroids of d finite numbers, the encoding is valid (and usable
 * for d in a k-means round), a secure round names a helper key, and a local round (only)
 * carries `local_sigma2`.
 *
 * @example
 * const r = parseRoundDescriptor(await (await fetch('/v1/rounds/current')).json());
 * if (r.ok) await buildSecureContribution(r.value, features, newId());
 */
export function parseRoundDescriptor(v: unknown): Checked<RoundDescriptor> {
  if (!isObject(v)) return { ok: false, errors: ['round: must be a JSON object'] };
  const errors = unknownKeys(v, ROUND_FIELDS).map((k) => `${k}: unknown field`);
  if (typeof v.round_id !== 'string' || !ROUND_ID_PATTERN.test(v.round_id)) errors.push('round_id: must be 1–64 characters of [A-Za-z0-9._:-]');
  if (v.kind !== 'kmeans' && v.kind !== 'counts') errors.push("kind: must be 'kmeans' or 'counts'");
  if (v.mode !== 'secure' && v.mode !== 'local') errors.push("mode: must be 'secure' or 'local'");
  if (!isIntIn(v.model_version, 1, Number.MAX_SAFE_INTEGER)) errors.push('model_version: must be a positive integer');
  const kOk = isIntIn(v.k, 1, MAX_K);
  const dOk = isIntIn(v.d, v.kind === 'kmeans' ? 1 : 0, MAX_D);
  if (!kOk) errors.push(`k: must be an integer in [1, ${MAX_K}]`);
  if (!dOk) errors.push(`d: must be an integer in [${v.kind === 'kmeans' ? 1 : 0}, ${MAX_D}]`);
  if (kOk && dOk && (v.kind === 'kmeans' || v.kind === 'counts') && vectorLength(v.kind, v.k as number, v.d as number) > MAX_VECTOR_LENGTH) {
    errors.push(`k, d: the contribution vector would exceed ${MAX_VECTOR_LENGTH} entries`);
  } else if (kOk && dOk && v.mode === 'secure' && v.kind === 'kmeans' && vectorLength('kmeans', v.k as number, v.d as number) > MAX_SECURE_KMEANS_LENGTH) {
    errors.push(`k, d: a secure k-means report of more than ${MAX_SECURE_KMEANS_LENGTH} entries would not fit the ${MAX_CONTRIBUTION_BODY_BYTES}-byte body cap`);
  }
  if (!Array.isArray(v.slices) || v.slices.length < 1 || v.slices.length > MAX_SLICES) errors.push(`slices: must be an array of 1 to ${MAX_SLICES} centroid sets`);
  else if (kOk && dOk) {
    v.slices.forEach((slice: unknown, s) => {
      if (!Array.isArray(slice) || slice.length !== v.k) return void errors.push(`slices[${s}]: must hold k = ${v.k} centroids`);
      slice.forEach((row: unknown, c) => {
        if (!Array.isArray(row) || row.length !== v.d || !row.every((x) => isNumberIn(x, -1e6, 1e6))) {
          errors.push(`slices[${s}][${c}]: must be d = ${v.d} finite numbers`);
        }
      });
    });
  }
  if (!isIntIn(v.groups, 1, MAX_GROUPS)) errors.push(`groups: must be an integer in [1, ${MAX_GROUPS}]`);
  const enc = validateEncoding(v.encoding);
  if (!enc.ok) errors.push(...enc.errors);
  else if (v.kind === 'kmeans' && v.mode === 'secure' && enc.value.bound >= SUMVEC_OFFSET) {
    errors.push(`encoding.bound: a secure k-means round proves each entry within ±${SUMVEC_OFFSET}, so bound must be below ${SUMVEC_OFFSET}`);
  } else if (v.kind === 'kmeans' && dOk) {
    try {
      encodingScales(enc.value, v.d as number);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (!isNumberIn(v.epsilon, Number.MIN_VALUE, 1000)) errors.push('epsilon: must be a positive number');
  if (!isNumberIn(v.delta, 0, 1) || v.delta === 1) errors.push('delta: must be a number in [0, 1)');
  if (v.mode === 'local') {
    if (!isNumberIn(v.local_sigma2, Number.MIN_VALUE, Number.MAX_VALUE)) errors.push('local_sigma2: must be a positive number in a local round');
  } else if (v.local_sigma2 !== undefined) errors.push('local_sigma2: only a local round carries it');
  if (!isIntIn(v.opens_at, 0, Number.MAX_SAFE_INTEGER)) errors.push('opens_at: must be epoch seconds');
  if (!isIntIn(v.closes_at, 0, Number.MAX_SAFE_INTEGER)) errors.push('closes_at: must be epoch seconds');
  else if (typeof v.opens_at === 'number' && v.closes_at <= v.opens_at) errors.push('closes_at: must be after opens_at');
  if (!isIntIn(v.min_batch, 1, Number.MAX_SAFE_INTEGER)) errors.push('min_batch: must be a positive integer (contributions per released bucket)');
  if (v.kind === 'counts') {
    if (!isPeriod(v.period)) errors.push('period: a counts round names its ISO week, such as 2026-W48');
    if (v.measure !== undefined && v.measure !== 'lifecycle' && v.measure !== 'impressions') errors.push("measure: must be 'lifecycle' or 'impressions' when present (absent: segments)");
  } else {
    if (v.period !== undefined) errors.push('period: only a counts round carries it');
    if (v.measure !== undefined) errors.push('measure: only a counts round carries it');
  }
  const hpke = v.hpke;
  if (!isObject(hpke)) errors.push('hpke: must be an object');
  else {
    errors.push(...unknownKeys(hpke, ['leader', 'helper']).map((k) => `hpke.${k}: unknown field`));
    checkConfig(hpke.leader, 'hpke.leader', errors);
    if (hpke.helper !== undefined) checkConfig(hpke.helper, 'hpke.helper', errors);
    else if (v.mode === 'secure') errors.push('hpke.helper: a secure round needs the helper key');
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as RoundDescriptor };
}

function checkBinding(v: JsonObject, errors: string[]): void {
  if (typeof v.round_id !== 'string' || !ROUND_ID_PATTERN.test(v.round_id)) errors.push('round_id: must be 1–64 characters of [A-Za-z0-9._:-]');
  if (typeof v.id !== 'string' || !CONTRIBUTION_ID_PATTERN.test(v.id)) errors.push('id: must be 16–64 characters of [A-Za-z0-9_-]');
  if (!isIntIn(v.slice, 0, MAX_SLICES - 1)) errors.push(`slice: must be an integer in [0, ${MAX_SLICES})`);
}

/** `ctChars`: the exact base64url length, or an inclusive [min, max] range. */
function checkSealed(v: unknown, at: string, errors: string[], ctChars: number | [number, number]): void {
  if (!isObject(v)) return void errors.push(`${at}: must be a sealed share object`);
  errors.push(...unknownKeys(v, SEALED_FIELDS).map((k) => `${at}.${k}: unknown field`));
  if (!isIntIn(v.config_id, 0, 255)) errors.push(`${at}.config_id: must be an integer in [0, 255]`);
  if (!isBase64url(v.enc) || v.enc.length !== base64urlLength(HPKE_ENC_BYTES)) errors.push(`${at}.enc: must be ${HPKE_ENC_BYTES} bytes of base64url`);
  const [min, max] = typeof ctChars === 'number' ? [ctChars, ctChars] : ctChars;
  if (!isBase64url(v.ct) || v.ct.length < min || v.ct.length > max) {
    errors.push(`${at}.ct: must be base64url of ${min === max ? `exactly ${min}` : `${min} to ${max}`} characters`);
  }
}

function checkConfig(v: unknown, at: string, errors: string[]): void {
  if (!isObject(v)) return void errors.push(`${at}: must be an HPKE config object`);
  errors.push(...unknownKeys(v, CONFIG_FIELDS).map((k) => `${at}.${k}: unknown field`));
  if (!isIntIn(v.config_id, 0, 255)) errors.push(`${at}.config_id: must be an integer in [0, 255]`);
  if (v.kem_id !== 16 || v.kdf_id !== 1 || v.aead_id !== 1) errors.push(`${at}: the suite must be kem 16 (DHKEM P-256), kdf 1 (HKDF-SHA256), aead 1 (AES-128-GCM)`);
  let point: Uint8Array | undefined;
  try {
    if (typeof v.public_key === 'string') point = base64urlToBytes(v.public_key);
  } catch {
    point = undefined;
  }
  if (!point || point.length !== HPKE_ENC_BYTES || point[0] !== 4) errors.push(`${at}.public_key: must be an uncompressed P-256 point (65 bytes) in base64url`);
}
