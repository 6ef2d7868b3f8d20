/**
 * Model signing, shared by the Worker (bootstrap model) and the RoundCoordinator (a
 * trained model at round close): keys come from secrets as private JWKs.
 */
import { MODEL_JWS_TYPE, modelEtag, type ModelManifest } from '@edgeseg/shared';
import { CompactSign, importJWK, type JWK } from 'jose';
import type { PublishedModel } from './model-registry.ts';

/** An imported ES256 key pair with its public JWK (as published) and key id. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * Imports a private P-256 JWK (JSON, with a kid) as an ES256 signing key pair.
 *
 * @example
 * const key = await importSigningKey(env.MODEL_SIGNING_JWK);
 */
export async function importSigningKey(json: string): Promise<SigningKey> {
  const jwk = JSON.parse(json) as JWK;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.kid) throw new Error('expected a private P-256 JWK with a kid');
  const { d: _d, key_ops: _ops, ext: _ext, ...publicJwk } = jwk;
  const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
  return { kid: jwk.kid, privateKey, publicKey, publicJwk: { ...publicJwk, alg: 'ES256', use: 'sig' } };
}

/**
 * Signs a manifest as a compact JWS (ES256, `typ` edgeseg-model+json) ready for the registry.
 *
 * @example
 * await registry.publish(await signModel(manifest, key));
 */
export async function signModel(manifest: ModelManifest, key: SigningKey): Promise<Omit<PublishedModel, 'publishedAt'>> {
  const payload = JSON.stringify(manifest);
  const jws = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: MODEL_JWS_TYPE }).sign(key.privateKey);
  const etag = await modelEtag(manifest.version, jws); // devices derive the same from the model they hold
  return { version: manifest.version, jws, etag, manifest: payload };
}
