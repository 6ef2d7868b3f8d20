// @ts-check
/**
 * The signed model as the pages read it: the payload of the compact JWS from
 * GET /v1/model, checked with the project's own parseManifest, and (on the dashboard)
 * its ES256 signature verified against /.well-known/jwks.json with WebCrypto.
 */
import { parseManifest } from '/vendor/edgeseg-shared.js';

/**
 * The bytes of base64url text (JWS and JWT parts).
 *
 * @example
 * new TextDecoder().decode(base64urlBytes('aGk')) // 'hi'
 * @param {string} s
 */
export function base64urlBytes(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * The manifest inside a model JWS; throws with the validation errors when it is not one.
 *
 * @example
 * const manifest = manifestOf(await (await fetch('/v1/model')).text());
 * @param {string} jws
 */
export function manifestOf(jws) {
  const payload = jws.split('.')[1];
  if (!payload) throw new Error('the model is not a compact JWS');
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(base64urlBytes(payload))));
  if (!parsed.ok) throw new Error(`the model does not match the schema: ${parsed.errors.join('; ')}`);
  return parsed.value;
}

/**
 * True when the JWS carries a valid ES256 signature by one of the keys in `jwks`.
 *
 * @example
 * const ok = await verifyModel(jws, await (await fetch('/.well-known/jwks.json')).json());
 * @param {string} jws
 * @param {{ keys: JsonWebKey[] }} jwks
 */
export async function verifyModel(jws, jwks) {
  const [header, payload, signature] = jws.split('.');
  if (!header || !payload || !signature) return false;
  const { kid } = JSON.parse(new TextDecoder().decode(base64urlBytes(header)));
  const jwk = jwks.keys.find((k) => /** @type {{ kid?: string }} */ (k).kid === kid);
  if (!jwk) return false;
  const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, base64urlBytes(signature), new TextEncoder().encode(`${header}.${payload}`));
}
