/**
 * Fetching the signed model: verified against the JWKS before use, refused when older
 * than the cached one or not yet valid; on any failure the last good model stays.
 */
import { MODEL_JWS_TYPE, parseManifest, type ModelManifest } from '@edgeseg/shared';
import { base64urlText, verifyCompactJws, type PublicJwk } from './jws.ts';
import type { CachedModel } from './store.ts';

/** A model that passed every check, ready to use. */
export interface VerifiedModel {
  manifest: ModelManifest;
  cached: CachedModel;
}

/** Parses and validates a model payload (JSON text); throws naming every problem. */
function manifestOf(payload: string): ModelManifest {
  const parsed = parseManifest(JSON.parse(payload));
  if (!parsed.ok) throw new Error(`model: ${parsed.errors.join('; ')}`);
  return parsed.value;
}

/**
 * Verifies a JWS and validates its manifest, refusing a rollback below `minVersion` and
 * a model whose `not_before` is in the future.
 *
 * @example
 * const model = await verifyModel(jws, jwks.keys, { minVersion: 1, nowMs: Date.now(), etag: null });
 */
export async function verifyModel(jws: string, keys: readonly PublicJwk[], opts: { minVersion: number; nowMs: number; etag: string | null }): Promise<VerifiedModel> {
  const manifest = manifestOf(await verifyCompactJws(jws, keys, MODEL_JWS_TYPE));
  if (manifest.version < opts.minVersion) throw new Error(`model: v${manifest.version} is older than the cached v${opts.minVersion}`);
  if (manifest.not_before * 1000 > opts.nowMs) throw new Error(`model: v${manifest.version} is not valid yet`);
  return { manifest, cached: { jws, etag: opts.etag, version: manifest.version } };
}

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
 * Fetches `/v1/model` (revalidating with the cached ETag) and `/.well-known/jwks.json`,
 * and returns a verified newer model, or null when the cached one is still current.
 *
 * @example
 * const fresh = await fetchModel('https://edge.example', cached);
 */
export async function fetchModel(endpoint: string, cached: CachedModel | undefined): Promise<VerifiedModel | null> {
  const res = await get(endpoint, '/v1/model', 'model', 304, { headers: cached && cached.etag ? { 'if-none-match': cached.etag } : {} });
  if (res.status === 304) return null;
  const jws = await res.text();
  const jwks = (await (await get(endpoint, '/.well-known/jwks.json', 'model')).json()) as { keys?: PublicJwk[] };
  const model = await verifyModel(jws, jwks.keys || [], { minVersion: cached ? cached.version : 0, nowMs: Date.now(), etag: res.headers.get('etag') });
  return cached && model.manifest.version === cached.version && jws === cached.jws ? null : model;
}

/**
 * Re-reads a model cached by an earlier session (it was verified when it was stored).
 *
 * @example
 * const manifest = cachedManifest(await readKv(db, 'model'));
 */
export function cachedManifest(cached: CachedModel): ModelManifest | null {
  try {
    return manifestOf(base64urlText(cached.jws.split('.')[1] as string)); // a malformed or invalid cache throws: null
  } catch {
    return null;
  }
}
