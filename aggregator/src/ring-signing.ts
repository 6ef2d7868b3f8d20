/**
 * Signing models with the key ring's current key: the one way both the Worker (bootstrap
 * and re-pinned models) and the RoundCoordinator (trained models) sign and publish, so
 * every new model is signed by the newest key and the ring learns when older keys were
 * superseded.
 */
import type { ModelManifest } from '@edgeseg/shared';
import { currentKey } from './key-rotation.ts';
import type { KeyRing } from './key-ring.ts';
import type { ModelRegistry, PublishedModel } from './model-registry.ts';
import { importSigningKey, signModel, type SigningKey } from './signing.ts';

/** The bindings model signing needs (the helper has none of them). */
export interface RingSigningEnv {
  KEY_RING?: DurableObjectNamespace<KeyRing>;
  MODEL_SIGNING_JWK?: string;
}

/**
 * This aggregator's key ring stub, or null where no ring is bound.
 *
 * @example
 * const ring = keyRingOf(env);
 */
export function keyRingOf(env: { KEY_RING?: DurableObjectNamespace<KeyRing> }): DurableObjectStub<KeyRing> | null {
  return env.KEY_RING ? env.KEY_RING.get(env.KEY_RING.idFromName('global')) : null;
}

/**
 * The current model-signing key: the ring's newest, or the secret's key while the ring
 * was never rotated. Throws when neither is usable.
 *
 * @example
 * const key = await currentModelSigningKey(env);
 */
export async function currentModelSigningKey(env: RingSigningEnv): Promise<SigningKey> {
  const ring = keyRingOf(env);
  const current = ring ? currentKey((await ring.state()).signing) : null;
  if (current?.private_jwk) return importSigningKey(current.private_jwk);
  if (!env.MODEL_SIGNING_JWK) throw new Error('MODEL_SIGNING_JWK is not set');
  return importSigningKey(env.MODEL_SIGNING_JWK);
}

/**
 * Signs a manifest with the current key and publishes it; when this model is the one
 * published, tells the ring so that keys older than the signer start their retention.
 * Returns whatever the registry holds afterwards.
 *
 * @example
 * await publishSignedModel(env, registry, { ...manifest, version: manifest.version + 1 });
 */
export async function publishSignedModel(env: RingSigningEnv, registry: DurableObjectStub<ModelRegistry>, manifest: ModelManifest): Promise<PublishedModel> {
  const key = await currentModelSigningKey(env);
  const signed = await signModel(manifest, key);
  const published = await registry.publish(signed);
  const ring = keyRingOf(env);
  if (ring && published.etag === signed.etag) await ring.markModelPublished(key.kid, published.publishedAt);
  return published;
}
