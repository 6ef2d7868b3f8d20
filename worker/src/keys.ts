/**
 * Signing keys come from secrets (`.dev.vars` locally, `wrangler secret put` in
 * production) as private JWKs; imported once per isolate.
 */
import { importJWK, type JWK } from 'jose';
import { ProblemError } from './problem.ts';

/** An imported ES256 key pair with its public JWK (as published) and key id. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

const cache = new Map<string, Promise<SigningKey>>();

async function importSigningKey(json: string): Promise<SigningKey> {
  const jwk = JSON.parse(json) as JWK;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.kid) throw new Error('expected a private P-256 JWK with a kid');
  const { d: _d, key_ops: _ops, ext: _ext, ...publicJwk } = jwk;
  const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
  return { kid: jwk.kid, privateKey, publicKey, publicJwk: { ...publicJwk, alg: 'ES256', use: 'sig' } };
}

/**
 * Imports (once per isolate) the key held in a secret binding; a missing or malformed
 * secret is a 500 problem that says how to fix it.
 *
 * @example
 * const key = await signingKey(c.env.MODEL_SIGNING_JWK, 'MODEL_SIGNING_JWK');
 */
export function signingKey(secret: string | undefined, name: string): Promise<SigningKey> {
  if (!secret) return Promise.reject(new ProblemError('misconfigured', `${name} is not set: run \`npm start\` once to generate .dev.vars, or \`wrangler secret put ${name}\``));
  let key = cache.get(secret);
  if (!key) {
    key = importSigningKey(secret).catch((err: unknown) => {
      cache.delete(secret);
      throw new ProblemError('misconfigured', `${name} is not a usable key: ${err instanceof Error ? err.message : String(err)}`);
    });
    cache.set(secret, key);
  }
  return key;
}
