/**
 * Byte helpers shared by the secure-aggregation wire formats: unpadded base64url
 * (RFC 4648 §5), UTF-8, and little-endian uint32 arrays. Hand-written because `shared`
 * compiles without DOM typings (no `atob`, `TextEncoder`) and must ship in the SDK bundle.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = /* @__PURE__ */ (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** True on little-endian platforms (every browser, Worker and Node target in practice). */
const LITTLE_ENDIAN = /* @__PURE__ */ (() => new Uint8Array(new Uint32Array([1]).buffer)[0] === 1)();

/**
 * Characters of the unpadded base64url encoding of `byteLength` bytes.
 *
 * @example
 * base64urlLength(65) // 87: an uncompressed P-256 public key or HPKE `enc`
 */
export function base64urlLength(byteLength: number): number {
  return Math.floor(byteLength / 3) * 4 + [0, 2, 3][byteLength % 3]!;
}

/**
 * True when `s` is a string of the base64url alphabet only (no padding).
 *
 * @example
 * isBase64url('ab-_') // true
 * isBase64url('ab+/') // false
 */
export function isBase64url(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_-]*$/.test(s);
}

/**
 * Unpadded base64url (RFC 4648 §5) of `bytes`.
 *
 * @example
 * bytesToBase64url(new Uint8Array([0xfb, 0xff])) // '-_8'
 */
export function bytesToBase64url(bytes: Uint8Array): string {
  const n = bytes.length;
  const chars: string[] = [];
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chars.push(ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + ALPHABET[(v >>> 6) & 63]! + ALPHABET[v & 63]!);
  }
  if (n - i === 1) {
    const v = bytes[i]!;
    chars.push(ALPHABET[v >>> 2]! + ALPHABET[(v & 3) << 4]!);
  } else if (n - i === 2) {
    const v = (bytes[i]! << 8) | bytes[i + 1]!;
    chars.push(ALPHABET[v >>> 10]! + ALPHABET[(v >>> 4) & 63]! + ALPHABET[(v & 15) << 2]!);
  }
  return chars.join('');
}

/**
 * Decodes unpadded base64url strictly: throws a `RangeError` on padding, a character
 * outside the alphabet, an impossible length or non-zero trailing bits, so every byte
 * string has exactly one accepted encoding.
 *
 * @example
 * base64urlToBytes('-_8') // Uint8Array [0xfb, 0xff]
 */
export function base64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const rem = s.length % 4;
  if (rem === 1) throw new RangeError('base64url: impossible length');
  const out = new Uint8Array(Math.floor(s.length / 4) * 3 + (rem === 0 ? 0 : rem - 1));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? DECODE[code]! : -1;
    if (v < 0) throw new RangeError(`base64url: invalid character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new RangeError('base64url: non-zero trailing bits');
  return out;
}

/**
 * UTF-8 bytes of `s` (lone surrogates become U+FFFD, as `TextEncoder` does).
 *
 * @example
 * utf8('é') // Uint8Array [0xc3, 0xa9]
 */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/**
 * The bytes of `words`, each as 4 little-endian bytes (word i at bytes [4i, 4i + 4)):
 * the wire layout of a leader share. Always a fresh copy.
 *
 * @example
 * uint32ToBytesLE(new Uint32Array([0x04030201])) // Uint8Array [1, 2, 3, 4]
 */
export function uint32ToBytesLE(words: Uint32Array | Int32Array): Uint8Array<ArrayBuffer> {
  if (LITTLE_ENDIAN) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength).slice();
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(4 * i, words[i]! >>> 0, true);
  return out;
}

/**
 * Reads little-endian uint32 words from `bytes` (length a multiple of 4, else `RangeError`):
 * the inverse of {@link uint32ToBytesLE}. Always a fresh copy, so `bytes` may be unaligned.
 *
 * @example
 * bytesToUint32LE(new Uint8Array([1, 2, 3, 4])) // Uint32Array [0x04030201]
 */
export function bytesToUint32LE(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  if (bytes.length % 4 !== 0) throw new RangeError(`bytesToUint32LE: ${bytes.length} bytes is not a whole number of uint32 words`);
  if (LITTLE_ENDIAN) return new Uint32Array(bytes.slice().buffer);
  return littleEndianWords(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/**
 * Little-endian words of a buffer the caller owns (no copy on little-endian platforms).
 *
 * @example
 * const words = wordsFromBufferLE(keystream, keystream.byteLength / 4);
 */
export function wordsFromBufferLE(buffer: ArrayBuffer, length: number): Uint32Array<ArrayBuffer> {
  if (LITTLE_ENDIAN) return new Uint32Array(buffer, 0, length);
  return littleEndianWords(buffer, 0, length);
}

function littleEndianWords(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(length);
  const view = new DataView(buffer, byteOffset, length * 4);
  for (let i = 0; i < length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}
