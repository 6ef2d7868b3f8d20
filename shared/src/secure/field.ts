/**
 * Vectors over Prio3's Field128 (p = 2^128 − 28·2^64 + 1), the field every verified
 * report's output share lives in: encoding on the leader ↔ helper wire and in storage
 * (16 bytes little-endian per element, the VDAF encoding), in-place sums, each
 * aggregator's discrete Gaussian noise added to its aggregate share in the field, and
 * the signed integers read back from the two shares' sum.
 *
 * The arithmetic is the library's (`@divviup/field`); this file only adapts it to the
 * shapes the aggregators keep (bigint vectors summed in place, bytes in SQLite).
 */
import { Field128 } from '@divviup/field';
import { discreteGaussianSampler } from '../dp/gaussian.ts';
import type { Rational } from '../dp/rational.ts';
import { cryptoRandom, type RandomSource } from '../random.ts';

/** The field of `Prio3Histogram` and `Prio3SumVec` (one shared instance: it holds no state). */
export const FIELD: Field128 = /* @__PURE__ */ new Field128();

/** Bytes of one encoded field element. */
export const FIELD_ELEMENT_BYTES = 16;

/**
 * Encodes a field vector as 16-byte little-endian elements.
 *
 * @example
 * encodeFieldVector([1n, 2n]).length // 32
 */
export function encodeFieldVector(v: readonly bigint[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(FIELD.encode(v as bigint[]));
}

/**
 * Decodes 16-byte little-endian elements, refusing a length that is not a whole number
 * of elements (or not `expected` of them, when given) and any value ≥ p: bytes from a
 * device or the other aggregator are untrusted.
 *
 * @example
 * decodeFieldVector(encodeFieldVector([5n])) // [5n]
 */
export function decodeFieldVector(bytes: Uint8Array, expected?: number): bigint[] {
  if (bytes.length % FIELD_ELEMENT_BYTES !== 0) throw new RangeError(`field vector: ${bytes.length} bytes is not a whole number of ${FIELD_ELEMENT_BYTES}-byte elements`);
  const n = bytes.length / FIELD_ELEMENT_BYTES;
  if (expected !== undefined && n !== expected) throw new RangeError(`field vector: ${n} elements, expected ${expected}`);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    let x = 0n;
    for (let b = FIELD_ELEMENT_BYTES - 1; b >= 0; b--) x = (x << 8n) | BigInt(bytes[i * FIELD_ELEMENT_BYTES + b] as number);
    if (x >= FIELD.modulus) throw new RangeError(`field vector: element ${i} is not reduced mod p`);
    out[i] = x;
  }
  return out;
}

/**
 * A zero vector of `length` field elements.
 *
 * @example
 * zeroFieldVector(3) // [0n, 0n, 0n]
 */
export function zeroFieldVector(length: number): bigint[] {
  return new Array<bigint>(length).fill(0n);
}

/**
 * Adds `v` into `acc` mod p, in place: an aggregator's sum of output shares.
 *
 * @example
 * addFieldInto(bucket.sums, outputShare);
 */
export function addFieldInto(acc: bigint[], v: readonly bigint[]): void {
  const n = acc.length;
  if (v.length !== n) throw new RangeError(`addFieldInto: vector of ${v.length} entries, accumulator of ${n}`);
  const p = FIELD.modulus;
  for (let i = 0; i < n; i++) {
    const s = (acc[i] as bigint) + (v[i] as bigint);
    acc[i] = s >= p ? s - p : s;
  }
}

/**
 * A signed safe integer as a field element (−1 is p − 1).
 *
 * @example
 * fieldFromSigned(-1) === FIELD.modulus - 1n // true
 */
export function fieldFromSigned(n: number): bigint {
  if (!Number.isSafeInteger(n)) throw new RangeError(`fieldFromSigned: ${n} is not a safe integer`);
  return n >= 0 ? BigInt(n) : FIELD.modulus + BigInt(n);
}

/**
 * A field element read as the signed integer it stands for: values above p/2 are
 * negative. Throws when the magnitude is beyond a safe integer (no honest sum is).
 *
 * @example
 * signedFromField(FIELD.modulus - 3n) // -3
 */
export function signedFromField(x: bigint): number {
  const p = FIELD.modulus;
  const v = x > p / 2n ? x - p : x;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('signedFromField: value beyond a safe integer');
  return Number(v);
}

/**
 * Adds an independent exact N_Z(0, σ²) sample to every entry of an aggregate share, in
 * place, in the field (negative noise as p − |n|): the sum of both released shares is
 * then the total plus at least one aggregator's full noise, whatever the other does.
 *
 * @example
 * addFieldNoise(aggregateShare, sigma2ForEpsilon(0.4, 1e-9, 1));
 */
export function addFieldNoise(vector: bigint[], sigma2: Rational, random: RandomSource = cryptoRandom): bigint[] {
  const noise = discreteGaussianSampler(sigma2, random);
  const p = FIELD.modulus;
  for (let i = 0; i < vector.length; i++) {
    const s = (vector[i] as bigint) + fieldFromSigned(noise());
    vector[i] = s >= p ? s - p : s;
  }
  return vector;
}

/**
 * The two aggregators' (noisy) shares summed mod p and read as signed integers: the
 * released totals.
 *
 * @example
 * combineFieldShares(leaderShare, helperShare) // Float64Array of signed sums
 */
export function combineFieldShares(a: readonly bigint[], b: readonly bigint[]): Float64Array {
  if (a.length !== b.length) throw new RangeError(`combineFieldShares: lengths ${a.length} and ${b.length} differ`);
  const out = new Float64Array(a.length);
  const p = FIELD.modulus;
  for (let i = 0; i < a.length; i++) {
    const s = (a[i] as bigint) + (b[i] as bigint);
    out[i] = signedFromField(s >= p ? s - p : s);
  }
  return out;
}
