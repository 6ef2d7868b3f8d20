/**
 * The leader ↔ helper wire encoding of aggregate shares: a Field128 vector in the VDAF
 * encoding (16 bytes little-endian per element) as base64. Both roles use it, so it
 * lives beside the round logic. What the other aggregator sends is untrusted: decoding
 * refuses a partial element, an unreduced one, or a wrong length.
 */
import { decodeFieldVector, encodeFieldVector } from '@edgeseg/shared/secure';

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64); // throws on anything that is not base64
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Serialises a field vector for the leader ↔ helper wire.
 *
 * @example
 * fieldVectorToBase64([1n]) // 'AQAAAAAAAAAAAAAAAAAAAA=='
 */
export function fieldVectorToBase64(v: readonly bigint[]): string {
  return bytesToBase64(encodeFieldVector(v));
}

/**
 * Reads a field vector from the wire; throws a RangeError (or the DOMException of
 * `atob`) for anything malformed, or for a length other than `expected` when given.
 *
 * @example
 * base64ToFieldVector(fieldVectorToBase64([5n]), 1) // [5n]
 */
export function base64ToFieldVector(b64: string, expected?: number): bigint[] {
  return decodeFieldVector(base64ToBytes(b64), expected);
}
