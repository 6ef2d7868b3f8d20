/**
 * Compact JWS (ES256) verification with WebCrypto. jose signs on the server; on the
 * device this ~40-line check replaces it to keep the SDK within its size budget.
 * An ES256 JWS signature is the raw r‖s pair WebCrypto's ECDSA expects, so no DER step.
 */

/** A public JWK as served in `/.well-known/jwks.json`. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  kid?: string;
  alg?: string;
}

/** Decodes base64url (padding optional). */
export function base64urlBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Decodes base64url to the UTF-8 text it carries. */
export function base64urlText(s: string): string {
  return new TextDecoder().decode(base64urlBytes(s));
}

/**
 * Verifies a compact JWS against a JWKS and returns its payload text. Only ES256 is
 * accepted (the algorithm is pinned, never taken from the header alone); `typ` must match.
 *
 * @example
 * const payload = await verifyCompactJws(jws, jwks.keys, 'edgeseg-model+json');
 */
export async function verifyCompactJws(jws: string, keys: readonly PublicJwk[], typ: string): Promise<string> {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new Error('model: not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(base64urlText(h)) as { alg?: string; kid?: string; typ?: string; crit?: unknown };
  if (header.alg !== 'ES256') throw new Error('model: algorithm must be ES256');
  if (header.typ !== typ) throw new Error(`model: typ must be ${typ}`);
  if (header.crit !== undefined) throw new Error('model: unsupported crit header');
  const jwk = keys.find((k) => k.kid === header.kid && k.kty === 'EC' && k.crv === 'P-256');
  if (!jwk) throw new Error(`model: no key ${String(header.kid)} in JWKS`);
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, base64urlBytes(s), new TextEncoder().encode(`${h}.${p}`));
  if (!ok) throw new Error('model: signature does not verify');
  return base64urlText(p);
}
