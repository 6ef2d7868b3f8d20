/**
 * Fetching the signed model: revalidated on every start with an `If-None-Match` the
 * device derives from the model it holds (`modelEtag`, a hash of the signed bytes; never
 * a value the server chose, which could serve as an identifier); a new model is verified
 * (signature and manifest, in the lazily loaded verification chunk) before use and
 * refused when older than the cached one or not yet valid; on any failure the last good
 * model stays.
 */
import { modelEtag } from '@edgeseg/shared';
import type { VerifyChunk } from './chunks.ts';
import type { PublicJwk } from './jws.ts';
import type { CachedModel, VerifiedModel } from './store.ts';

/** `fetch`, injectable (tests, hosts that wrap it). */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * GETs `${endpoint}${path}` without credentials; an answer that is neither ok nor `also`
 * throws, naming `scope`, the path and the status.
 *
 * @example
 * const res = await get(fetch, 'https://edge.example', '/v1/rounds/current', 'contribute', 404, { cache: 'no-store' });
 */
export async function get(fetchFn: Fetch, endpoint: string, path: string, scope: string, also?: number, init?: RequestInit): Promise<Response> {
  const res = await fetchFn(endpoint + path, { ...init, credentials: 'omit' });
  if (!res.ok && res.status !== also) throw new Error(`${scope}: GET ${path} answered ${res.status}`);
  return res;
}

/**
 * Fetches `/v1/model` (revalidating against the cached model) and, when it changed,
 * `/.well-known/jwks.json`, and returns the newer model as `verify` (the chunk's
 * `verifyModel`) checked it, or null when the cached one is still current.
 *
 * @example
 * const fresh = await fetchModel(fetch, 'https://edge.example', cached, async () => (await loadVerifyChunk()).verifyModel, Date.now());
 */
export async function fetchModel(fetchFn: Fetch, endpoint: string, cached: CachedModel | undefined, verify: () => Promise<VerifyChunk['verifyModel']>, nowMs: number): Promise<VerifiedModel | null> {
  const res = await get(fetchFn, endpoint, '/v1/model', 'model', 304, { headers: cached ? { 'if-none-match': await modelEtag(cached.version, cached.jws) } : {} });
  if (res.status === 304) return null;
  const jws = await res.text();
  if (cached && jws === cached.jws) return null;
  const jwks = (await (await get(fetchFn, endpoint, '/.well-known/jwks.json', 'model')).json()) as { keys?: PublicJwk[] };
  return (await verify())(jws, jwks.keys || [], { minVersion: cached ? cached.version : 0, nowMs });
}
