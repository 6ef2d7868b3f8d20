/**
 * The leader ↔ helper wire encoding of aggregate shares: a vector of uint32 as
 * little-endian base64. Both roles use it, so it lives beside the round logic.
 */

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Reads little-endian base64 back into a vector of uint32 (the leader ↔ helper wire).
 *
 * @example
 * base64ToUint32('AQAAAA==') // Uint32Array [1]
 */
export function base64ToUint32(b64: string): Uint32Array {
  const bin = atob(b64);
  const out = new Uint32Array(bin.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = (bin.charCodeAt(i * 4) | (bin.charCodeAt(i * 4 + 1) << 8) | (bin.charCodeAt(i * 4 + 2) << 16) | (bin.charCodeAt(i * 4 + 3) << 24)) >>> 0;
  return out;
}

/**
 * Serialises a vector of uint32 as little-endian base64, for the leader ↔ helper wire.
 *
 * @example
 * uint32ToBase64(new Uint32Array([1])) // 'AQAAAA=='
 */
export function uint32ToBase64(v: Uint32Array): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setUint32(i * 4, x, true));
  return bytesToBase64(bytes);
}
