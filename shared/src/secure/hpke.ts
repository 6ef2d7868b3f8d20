/**
 * HPKE (RFC 9180, base mode) for contribution shares, with `@hpke/core` on WebCrypto:
 * DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, the suite every `HpkeConfig`
 * names (kem 0x0010, kdf 0x0001, aead 0x0001).
 *
 * Every share is sealed with info = {@link CONTRIBUTION_INFO} and an aad
 * ({@link contributionAad}) binding round, contribution id, slice, public share, the
 * recipient's role and the digest of the round's whole configuration, so a ciphertext
 * opens only where, and under the configuration, it was meant to be counted.
 */
import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import type { HpkeConfig, SealedShare } from '../rounds.ts';
import { base64urlToBytes, bytesToBase64url, utf8 } from './bytes.ts';
import { ROUND_DIGEST_BYTES } from './round-digest.ts';
import { subtle, type CryptoKeyLike, type EcJwkFields } from './webcrypto.ts';

/** The HPKE `info` of every contribution share: the UTF-8 bytes of `edgeseg contribution v1`. Do not mutate. */
export const CONTRIBUTION_INFO: Uint8Array<ArrayBuffer> = /* @__PURE__ */ utf8('edgeseg contribution v1');

/** Bytes of an HPKE `enc` (and a public key) for DHKEM(P-256): an uncompressed point. */
export const HPKE_ENC_BYTES = 65;
/** Bytes AES-128-GCM adds to a sealed plaintext (the tag). */
export const HPKE_TAG_BYTES = 16;

/** Which aggregator a share is for. */
export type AggregatorRole = 'leader' | 'helper';

/** An aggregator's P-256 private key as a JWK: what the Worker keeps as a secret. */
export interface HpkePrivateJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
}

/** An aggregator's imported key: ready for {@link openShare}. */
export interface HpkeRecipientKey {
  /** Non-extractable ECDH private key. */
  readonly privateKey: CryptoKeyLike;
  readonly publicKey: CryptoKeyLike;
  /** The uncompressed public key, base64url: equals `public_key` of the matching `HpkeConfig`. */
  readonly public_key: string;
}

/**
 * Thrown by {@link openShare} when a share cannot be opened; maps to a 4xx, never a 5xx.
 *
 * @example
 * catch (e) { if (e instanceof ShareOpenError) return problem(422, 'contribution-unreadable'); throw e; }
 */
export class ShareOpenError extends Error {
  override readonly name = 'ShareOpenError';
}

let suiteInstance: CipherSuite | undefined;
function suite(): CipherSuite {
  suiteInstance ??= new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  return suiteInstance;
}

/** `CryptoKey | CryptoKeyPair` as @hpke/core types it (DOM types there, structural ones here). */
type RecipientKeyParam = Parameters<CipherSuite['open']>[0]['recipientKey'];

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };
const COORD_CHARS = 43; // base64url of a 32-byte coordinate or scalar

/**
 * Generates an aggregator key pair: the public `HpkeConfig` to publish (and pin in the
 * model) and the private key as a JWK to store as a Worker secret.
 *
 * @example
 * const { config, privateKeyJwk } = await generateHpkeKeyPair(1);
 * // wrangler secret put HPKE_PRIVATE_JWK  ← JSON.stringify(privateKeyJwk)
 */
export async function generateHpkeKeyPair(configId: number): Promise<{ config: HpkeConfig; privateKeyJwk: HpkePrivateJwk }> {
  checkConfigId(configId);
  const pair = (await suite().kem.generateKeyPair()) as { privateKey: CryptoKeyLike; publicKey: CryptoKeyLike };
  const jwk = await subtle().exportKey('jwk', pair.privateKey);
  const privateKeyJwk = checkJwk(jwk);
  return { config: hpkeConfigFromJwk(privateKeyJwk, configId), privateKeyJwk };
}

/**
 * The public `HpkeConfig` of a private JWK (pure: the public point is in the JWK).
 *
 * @example
 * const config = hpkeConfigFromJwk(JSON.parse(env.HPKE_PRIVATE_JWK), 1);
 */
export function hpkeConfigFromJwk(jwk: EcJwkFields, configId: number): HpkeConfig {
  checkConfigId(configId);
  const { x, y } = checkJwk(jwk);
  return { config_id: configId, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: publicKeyOf(x, y) };
}

/**
 * Imports an aggregator's private JWK (P-256, with x, y and d) for {@link openShare}.
 * The private key is imported non-extractable; the public key is kept beside it so
 * opening never has to derive it. Throws on a malformed or off-curve key.
 *
 * @example
 * const key = await importHpkePrivateKey(JSON.parse(env.HPKE_PRIVATE_JWK));
 */
export async function importHpkePrivateKey(jwk: EcJwkFields): Promise<HpkeRecipientKey> {
  const { x, y, d } = checkJwk(jwk);
  const api = subtle();
  const privateKey = await api.importKey('jwk', { kty: 'EC', crv: 'P-256', x, y, d }, ECDH_P256, false, ['deriveBits']);
  const public_key = publicKeyOf(x, y);
  const publicKey = await api.importKey('raw', base64urlToBytes(public_key), ECDH_P256, true, []);
  return { privateKey, publicKey, public_key };
}

/**
 * Seals `plaintext` to an aggregator's `HpkeConfig` (HPKE base mode, single shot).
 * The ephemeral key comes from WebCrypto's own CSPRNG.
 *
 * @example
 * const sealed = await sealShare(round.hpke.leader, uint32ToBytesLE(leader), CONTRIBUTION_INFO, contributionAad(c, 'leader'));
 */
export async function sealShare(config: HpkeConfig, plaintext: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<SealedShare> {
  if (config.kem_id !== 16 || config.kdf_id !== 1 || config.aead_id !== 1) {
    throw new RangeError(`sealShare: unsupported HPKE suite kem ${config.kem_id}, kdf ${config.kdf_id}, aead ${config.aead_id}`);
  }
  const s = suite();
  const recipientPublicKey = await s.kem.deserializePublicKey(base64urlToBytes(config.public_key));
  const { enc, ct } = await s.seal({ recipientPublicKey, info }, plaintext, aad);
  return { config_id: config.config_id, enc: bytesToBase64url(new Uint8Array(enc)), ct: bytesToBase64url(new Uint8Array(ct)) };
}

/**
 * Opens a sealed share with the aggregator's key. Throws a {@link ShareOpenError} when
 * the share is malformed, was sealed to another key, or its info, aad (round, id,
 * slice, public share, role, round digest) or bytes differ from what was sealed.
 *
 * @example
 * const bytes = await openShare(key, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader'));
 */
export async function openShare(privateKey: HpkeRecipientKey, sealed: SealedShare, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  let enc: Uint8Array<ArrayBuffer>;
  let ct: Uint8Array<ArrayBuffer>;
  try {
    enc = base64urlToBytes(sealed.enc);
    ct = base64urlToBytes(sealed.ct);
  } catch (e) {
    throw new ShareOpenError(`cannot open share (config ${sealed.config_id}): ${(e as Error).message}`);
  }
  if (enc.length !== HPKE_ENC_BYTES || ct.length < HPKE_TAG_BYTES) {
    throw new ShareOpenError(`cannot open share (config ${sealed.config_id}): enc of ${enc.length} bytes or ct of ${ct.length} bytes is malformed`);
  }
  try {
    // Hand over the pair so @hpke/core never has to derive (or export) the public key.
    const recipientKey = { privateKey: privateKey.privateKey, publicKey: privateKey.publicKey } as unknown as RecipientKeyParam;
    return new Uint8Array(await suite().open({ recipientKey, enc, info }, ct, aad));
  } catch {
    throw new ShareOpenError(
      `cannot open share (config ${sealed.config_id}): wrong key, or sealed for another round, configuration, id, slice, public share or role, or tampered with`,
    );
  }
}

/**
 * The HPKE aad of a contribution share. Byte layout (a wire format; integers big-endian):
 *
 * `"edgeseg-aad-v3"` (14 ASCII bytes) ‖ role (1 byte: 0 leader, 1 helper)
 * ‖ u16 byte length ‖ round_id (UTF-8) ‖ u16 byte length ‖ id (UTF-8)
 * ‖ u16 byte length ‖ public_share (its base64url text) ‖ u32 slice
 * ‖ the 32-byte `roundDigest` of the round's whole descriptor
 *
 * The public share (Prio3's joint-randomness parts) is bound too, as DAP binds it: a
 * report relayed with another public share does not open.
 *
 * The digest binds every share to the exact configuration the device was shown (ε, δ,
 * groups, slices, minimum batch, times, both keys): an aggregator that accepted another
 * configuration cannot open it.
 *
 * @example
 * contributionAad({ round_id: 'r-42', id: 'abcdefghijklmnop', slice: 0, public_share }, 'helper', await roundDigest(round))
 */
export function contributionAad(c: { round_id: string; id: string; slice: number; public_share: string }, role: AggregatorRole, digest: Uint8Array): Uint8Array<ArrayBuffer> {
  const round = utf8(c.round_id);
  const id = utf8(c.id);
  const pub = utf8(c.public_share);
  if (round.length > 0xffff || id.length > 0xffff || pub.length > 0xffff) throw new RangeError('contributionAad: round_id, id or public_share too long');
  if (!Number.isInteger(c.slice) || c.slice < 0 || c.slice > 0xffffffff) throw new RangeError(`contributionAad: bad slice ${c.slice}`);
  if (digest.length !== ROUND_DIGEST_BYTES) throw new RangeError(`contributionAad: a round digest has ${ROUND_DIGEST_BYTES} bytes, not ${digest.length}`);
  const out = new Uint8Array(AAD_LABEL.length + 1 + 2 + round.length + 2 + id.length + 2 + pub.length + 4 + ROUND_DIGEST_BYTES);
  const view = new DataView(out.buffer);
  out.set(AAD_LABEL, 0);
  let o = AAD_LABEL.length;
  out[o++] = role === 'leader' ? 0 : 1;
  for (const field of [round, id, pub]) {
    view.setUint16(o, field.length);
    out.set(field, o + 2);
    o += 2 + field.length;
  }
  view.setUint32(o, c.slice);
  out.set(digest, o + 4);
  return out;
}

const AAD_LABEL = /* @__PURE__ */ utf8('edgeseg-aad-v3');

function checkConfigId(configId: number): void {
  if (!Number.isInteger(configId) || configId < 0 || configId > 255) throw new RangeError(`HPKE config_id ${configId} is not in [0, 255]`);
}

function checkJwk(jwk: EcJwkFields): HpkePrivateJwk {
  const { kty, crv, x, y, d } = jwk;
  const ok = (s: unknown): s is string => typeof s === 'string' && s.length === COORD_CHARS && /^[A-Za-z0-9_-]+$/.test(s);
  if (kty !== 'EC' || crv !== 'P-256' || !ok(x) || !ok(y) || !ok(d)) throw new RangeError('HPKE private key: expected a P-256 EC JWK with x, y and d');
  return { kty, crv, x, y, d };
}

function publicKeyOf(x: string, y: string): string {
  const point = new Uint8Array(HPKE_ENC_BYTES);
  point[0] = 4;
  point.set(base64urlToBytes(x), 1);
  point.set(base64urlToBytes(y), 33);
  return bytesToBase64url(point);
}
