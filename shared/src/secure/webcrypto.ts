/**
 * The slice of WebCrypto (`crypto.subtle`) the secure-aggregation code uses, typed
 * structurally because `shared` compiles without DOM or Worker typings. Browsers,
 * Workers and Node ≥ 19 all provide it as `globalThis.crypto.subtle`.
 */

/** A WebCrypto `CryptoKey`, structurally (DOM's and workers-types' `CryptoKey` both fit). */
export interface CryptoKeyLike {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/** The JWK fields a P-256 key uses. */
export interface EcJwkFields {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
}

type Algorithm = { name: string; namedCurve?: string; hash?: string };

interface SubtleLike {
  importKey(format: 'raw', keyData: Uint8Array<ArrayBuffer>, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  importKey(format: 'jwk', keyData: EcJwkFields, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  exportKey(format: 'jwk', key: CryptoKeyLike): Promise<EcJwkFields>;
  encrypt(algorithm: { name: 'AES-CTR'; counter: Uint8Array<ArrayBuffer>; length: number }, key: CryptoKeyLike, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
  sign(algorithm: 'HMAC', key: CryptoKeyLike, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

/** The platform's global `crypto`, where there is one (this package has no DOM or Workers types). */
declare const crypto: { subtle?: SubtleLike } | undefined;

/**
 * `crypto.subtle` of this platform, or a clear error where there is none (internal).
 *
 * @example
 * const key = await subtle().importKey('raw', seed, { name: 'AES-CTR' }, false, ['encrypt']);
 */
export function subtle(): SubtleLike {
  // `typeof crypto`, not `globalThis.crypto`: 2020 TV browsers (Chromium 68) have no globalThis.
  const s = typeof crypto === 'undefined' ? undefined : crypto.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available on this platform');
  return s;
}
