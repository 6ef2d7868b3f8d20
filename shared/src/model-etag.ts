/**
 * The ETag of a published model, a function of the signed bytes alone: the server sends
 * it, and a device derives its `If-None-Match` from the model it stored, never from a
 * value the server chose, so the header cannot carry a server-set identifier.
 */

/** The platform's global `crypto` (this package has no DOM or Workers types). */
declare const crypto: { subtle: { digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer> } };

/**
 * `"v<version>-<first 16 hex digits of SHA-256(jws)>"`.
 *
 * @example
 * await modelEtag(3, jws) // '"v3-1f0c9a7e2b4d6c80"'
 */
export async function modelEtag(version: number, jws: string): Promise<string> {
  const bytes = new Uint8Array(jws.length); // a compact JWS is ASCII (base64url and dots)
  for (let i = 0; i < jws.length; i++) bytes[i] = jws.charCodeAt(i);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (let i = 0; i < 8; i++) hex += ((digest[i] as number) + 256).toString(16).slice(1);
  return `"v${version}-${hex}"`;
}
