/**
 * The model verification chunk (`verify.min.js`, next to the core under `/sdk/<version>/`): loaded by the core SDK with
 * `import()` only when a model it has not verified yet arrives (the first start, a new
 * version at `/v1/model`, or a model bundled with the app). It checks the ES256
 * signature against the JWKS and validates the whole manifest (shapes, ranges,
 * campaigns). A returning device whose model is current (`304 Not Modified`) never loads
 * it: the core keeps the manifest it verified, in IndexedDB.
 */
import { MODEL_JWS_TYPE, parseManifest } from '@edgeseg/shared';
import { verifyCompactJws, type PublicJwk } from '../jws.ts';
import type { VerifiedModel } from '../store.ts';

/**
 * Verifies a JWS and validates its manifest, refusing a rollback below `minVersion` and
 * a model whose `not_before` is in the future. Throws naming every problem.
 *
 * @example
 * const model = await verifyModel(jws, jwks.keys, { minVersion: 1, nowMs: Date.now() });
 */
export async function verifyModel(jws: string, keys: readonly PublicJwk[], opts: { minVersion: number; nowMs: number }): Promise<VerifiedModel> {
  const parsed = parseManifest(JSON.parse(await verifyCompactJws(jws, keys, MODEL_JWS_TYPE)));
  if (!parsed.ok) throw new Error(`model: ${parsed.errors.join('; ')}`);
  const manifest = parsed.value;
  if (manifest.version < opts.minVersion) throw new Error(`model: v${manifest.version} is older than the cached v${opts.minVersion}`);
  if (manifest.not_before * 1000 > opts.nowMs) throw new Error(`model: v${manifest.version} is not valid yet`);
  return { manifest, cached: { jws, version: manifest.version, manifest } };
}
