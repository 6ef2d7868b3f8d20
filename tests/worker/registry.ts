/** What the leader's model registry holds now, read straight from its Durable Object (no HTTP, no signature). */
import { parseManifest, type ModelManifest } from '@edgeseg/shared';
import { env } from 'cloudflare:test';

/**
 * The current published manifest, parsed; throws if none is published or it does not parse.
 *
 * @example
 * await worker.fetch(new Request('http://edgeseg.test/v1/model')); // bootstraps v1
 * const manifest = await registryManifest();
 */
export async function registryManifest(): Promise<ModelManifest> {
  const registry = env.MODEL_REGISTRY.get(env.MODEL_REGISTRY.idFromName('global'));
  const parsed = parseManifest(JSON.parse((await registry.current())?.manifest ?? 'null'));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}
