// @ts-check
/**
 * Signed documents as the pages read them: the payload of a compact JWS, the model's
 * manifest inside GET /v1/model (checked with the project's own parseManifest), and (on
 * the dashboard) an ES256 signature verified with WebCrypto against a JWKS: the model's
 * against the leader's /.well-known/jwks.json, the helper's privacy ledger against the
 * helper's own.
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
  if (!jws.split('.')[1]) throw new Error('the model is not a compact JWS');
  const parsed = parseManifest(jwsJson(jws, 1));
  if (!parsed.ok) throw new Error(`the model does not match the schema: ${parsed.errors.join('; ')}`);
  return parsed.value;
}

/**
 * One part of a compact JWS (0: protected header, 1: payload) read as JSON; throws
 * when it is not JSON. Reading is not trusting: verify the signature first.
 *
 * @example
 * const { kid } = jwsJson(jws, 0);
 * @param {string} jws
 * @param {0 | 1} part
 */
export function jwsJson(jws, part) {
  return JSON.parse(new TextDecoder().decode(base64urlBytes(jws.split('.')[part] ?? '')));
}

/**
 * True when the JWS carries a valid ES256 signature by the key of `jwks` its header
 * names (kid), and, when `typ` is given, its header declares that type (so a document
 * of one kind signed by the same key cannot pass as another).
 *
 * @example
 * const ok = await verifyJws(jws, await (await fetch('/.well-known/jwks.json')).json(), 'edgeseg-model+json');
 * @param {string} jws
 * @param {{ keys: JsonWebKey[] }} jwks
 * @param {string} [typ]
 */
export async function verifyJws(jws, jwks, typ) {
  const [header, payload, signature] = jws.split('.');
  if (!header || !payload || !signature || !Array.isArray(jwks?.keys)) return false;
  /** @type {{ alg?: unknown, kid?: unknown, typ?: unknown }} */
  let protectedHeader;
  try {
    protectedHeader = jwsJson(jws, 0);
  } catch {
    return false;
  }
  if (protectedHeader.alg !== 'ES256' || (typ !== undefined && protectedHeader.typ !== typ)) return false;
  const jwk = jwks.keys.find((k) => /** @type {{ kid?: string }} */ (k).kid === protectedHeader.kid);
  if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256') return false;
  try {
    const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, base64urlBytes(signature), new TextEncoder().encode(`${header}.${payload}`));
  } catch {
    return false; // a key or signature that is not one (bad coordinates, bad base64url) verifies nothing
  }
}
