/**
 * The model a device would adopt from a running stack: the JWS from `GET /v1/model`,
 * verified against the stack's JWKS, and its manifest checked.
 */
import { parseManifest, type ModelManifest } from '@edgeseg/shared';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';

/**
 * Fetches, verifies and parses the current model; throws if any step fails.
 *
 * @example
 * const manifest = await verifiedModel(stack.baseUrl);
 */
export async function verifiedModel(baseUrl: string): Promise<ModelManifest> {
  const jws = await (await fetch(`${baseUrl}/v1/model`)).text();
  const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  const { payload } = await compactVerify(jws, createLocalJWKSet(jwks));
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(payload)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}
