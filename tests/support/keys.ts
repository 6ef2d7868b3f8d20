/**
 * Fresh ES256 signing keys for a test run (the same shape `npm start` writes to
 * .dev.vars), and marketer/admin tokens signed with them.
 */
import { importJWK, SignJWT, type JWK } from 'jose';

/**
 * A private P-256 JWK with a kid, as a JSON string.
 *
 * @example
 * const MODEL_SIGNING_JWK = await generateSigningJwk('model');
 */
export async function generateSigningJwk(prefix: string): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
  const kid = `${prefix}-${Math.random().toString(16).slice(2, 10)}`;
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid });
}

/**
 * A bearer token for the API, signed with `privateJwk`. Claims may be overridden to
 * build expired, wrong-audience or wrong-role tokens.
 *
 * @example
 * const token = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
 */
export async function mintToken(privateJwk: string, claims: { role?: string; iss?: string; aud?: string; expSecondsFromNow?: number } = {}): Promise<string> {
  const jwk = JSON.parse(privateJwk) as JWK;
  const key = await importJWK(jwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: claims.role ?? 'marketer' })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string })
    .setIssuer(claims.iss ?? 'edgeseg-dev')
    .setAudience(claims.aud ?? 'edgeseg-api')
    .setIssuedAt(now - 10)
    .setExpirationTime(now + (claims.expSecondsFromNow ?? 600))
    .sign(key);
}

/**
 * A private P-256 ECDH JWK for an aggregator's HPKE key; `kid` is the HPKE config id.
 *
 * @example
 * const HPKE_PRIVATE_JWK = await generateHpkeJwk(1);
 */
export async function generateHpkeJwk(configId: number): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid: String(configId) });
}
