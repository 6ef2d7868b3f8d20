/**
 * Fetching the signed model: revalidated with its ETag on every start; a new one is
 * verified (signature and manifest, in the lazily loaded verification chunk) before use
 * and refused when older than the cached one or not yet valid; on any failure the last
 * good model stays.
 */
import type { PublicJwk } from './jws.ts';
import type { CachedModel, VerifiedModel } from './store.ts';

import type { VerifyChunk } from './chunks.ts';

/**
 * GETs `${endpoint}${path}` without credentials; an answer that is neither ok nor `also`
 * throws, naming `scope`, the path and the status.
 *
 * @example
 * const res = await get('https://edge.example', '/v1/rounds/current', 'contribute', 404, { cache: 'no-store' });
 */
export async function get(endpoint: string, path: string, scope: string, also?: number, init?: RequestInit): Promise<Response> {
  const res = await fetch(endpoint + path, { ...init, credentials: 'omit' });
  if (!res.ok && res.status !== also) throw new Error(`${scope}: GET ${path} answered ${res.status}`);
  return res;
}

/**
 * Fetches `/v1/model` (revalidating with the cached ETag) and, when it changed,
 * `/.well-known/jwks.json`, and returns the newer model as `verify` (the chunk's
 * `verifyModel`) checked it, or null when the cached one is still current.
 *
 * @example
 * const fresh = await fetchModel('https://edge.example', cached, async () => (await loadVerifyChunk()).verifyModel);
 */
export async function fetchModel(endpoint: string, cached: CachedModel | undefined, verify: () => Promise<VerifyChunk['verifyModel']>): Promise<VerifiedModel | null> {
  const res = await get(endpoint, '/v1/model', 'model', 304, { headers: cached && cached.etag ? { 'if-none-match': cached.etag } : {} });
  if (res.status === 304) return null;
  const jws = await res.text();
  if (cached && jws === cached.jws) return null;
  const jwks = (await (await get(endpoint, '/.well-known/jwks.json', 'model')).json()) as { keys?: PublicJwk[] };
  return (await verify())(jws, jwks.keys || [], { minVersion: cached ? cached.version : 0, nowMs: Date.now(), etag: res.headers.get('etag') });
}
