/**
 * Fetching the signed model: verified against the JWKS before use, refused when older
 * than the cached one or not yet valid; on any failure the last good model stays.
 */
import { MODEL_JWS_TYPE, parseManifest, type ModelManifest } from '@edgeseg/shared';
import { base64urlBytes, verifyCompactJws, type PublicJwk } from './jws.ts';
import type { CachedModel } from './store.ts';

/** A model that passed every check, ready to use. */
export interface VerifiedModel {
  manifest: ModelManifest;
  cached: CachedModel;
}

/**
 * Verifies a JWS and validates its manifest, refusing a rollback below `minVersion` and
 * a model whose `not_before` is in the future.
 *
 * @example
 * const model = await verifyModel(jws, jwks.keys, { minVersion: 1, nowMs: Date.now(), etag: null });
 */
export async function verifyModel(jws: string, keys: readonly PublicJwk[], opts: { minVersion: number; nowMs: number; etag: string | null }): Promise<VerifiedModel> {
  const payload = await verifyCompactJws(jws, keys, MODEL_JWS_TYPE);
  const parsed = parseManifest(JSON.parse(payload));
  if (!parsed.ok) throw new Error(`model: ${parsed.errors.join('; ')}`);
  const manifest = parsed.value;
  if (manifest.version < opts.minVersion) throw new Error(`model: v${manifest.version} is older than the cached v${opts.minVersion}`);
  if (manifest.not_before * 1000 > opts.nowMs) throw new Error(`model: v${manifest.version} is not valid yet`);
  return { manifest, cached: { jws, etag: opts.etag, version: manifest.version } };
}

/**
 * Fetches `/v1/model` (revalidating with the cached ETag) and `/.well-known/jwks.json`,
 * and returns a verified newer model, or null when the cached one is still current.
 *
 * @example
 * const fresh = await fetchModel('https://edge.example', cached);
 */
export async function fetchModel(endpoint: string, cached: CachedModel | undefined): Promise<VerifiedModel | null> {
  const headers: Record<string, string> = {};
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  const res = await fetch(`${endpoint}/v1/model`, { headers, credentials: 'omit' });
  if (res.status === 304) return null;
  if (!res.ok) throw new Error(`model: GET /v1/model answered ${res.status}`);
  const jws = await res.text();
  const jwksRes = await fetch(`${endpoint}/.well-known/jwks.json`, { credentials: 'omit' });
  if (!jwksRes.ok) throw new Error(`model: GET /.well-known/jwks.json answered ${jwksRes.status}`);
  const jwks = (await jwksRes.json()) as { keys?: PublicJwk[] };
  const model = await verifyModel(jws, jwks.keys ?? [], { minVersion: cached?.version ?? 0, nowMs: Date.now(), etag: res.headers.get('etag') });
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
    const parsed = parseManifest(JSON.parse(new TextDecoder().decode(base64urlBytes(cached.jws.split('.')[1] ?? ''))));
    return parsed.ok ? parsed.value : null;
  } catch {
    return null;
  }
}
