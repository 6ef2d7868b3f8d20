/**
 * Signing and publishing models. The registry DO holds the bytes; this module signs
 * (the Worker holds the key, the DO never does) and bootstraps version 1 on first use.
 */
import { publishSignedModel, type PublishedModel } from '@edgeseg/aggregator';
import { parseManifest, type ModelManifest } from '@edgeseg/shared';
import { bootstrapManifest, grrEpsilonOf } from './bootstrap-model.ts';
import type { Env } from './env.ts';
import { aggregatorHpke, helperHpkeConfig } from './hpke-key.ts';
import { signingKey } from './keys.ts';

function registry(env: Env) {
  return env.MODEL_REGISTRY.get(env.MODEL_REGISTRY.idFromName('global'));
}

/**
 * Signs a manifest as a compact JWS (ES256, `typ` edgeseg-model+json) with the current
 * key of the key ring and publishes it. Returns whatever the registry holds afterwards.
 *
 * @example
 * await publishModel(env, { ...manifest, version: manifest.version + 1 });
 */
export async function publishModel(env: Env, manifest: ModelManifest): Promise<PublishedModel> {
  await signingKey(env.MODEL_SIGNING_JWK, 'MODEL_SIGNING_JWK'); // a missing or broken secret is a 500 problem that says how to fix it
  return publishSignedModel(env, registry(env), manifest);
}

/**
 * The current published model, publishing the bootstrap model on a fresh deployment or
 * when the stored one no longer fits the feature schema.
 *
 * @example
 * const { jws, etag } = await currentModel(env);
 */
export async function currentModel(env: Env): Promise<PublishedModel> {
  const current = await registry(env).current();
  const parsed = current ? parseManifest(JSON.parse(current.manifest)) : null;
  const aggregators = await pinnedAggregators(env);
  if (current && parsed?.ok) {
    // While the helper is unreachable, nothing about the pinned keys or the mechanism is known: keep the model.
    const measurement = aggregators ? measurementOf(env, aggregators) : (parsed.value.measurement ?? 'grr');
    // Keys rotated (or first learned), or the counting mechanism changed: republish the
    // same centroids pinning the new keys and naming the mechanism devices must use.
    const sameKeys = !aggregators || JSON.stringify(parsed.value.aggregators) === JSON.stringify(aggregators);
    if (sameKeys && (parsed.value.measurement ?? 'grr') === measurement) return current;
    return publishModel(env, { ...parsed.value, version: current.version + 1, ...(aggregators ? { aggregators } : {}), measurement, issued_at: Math.floor(Date.now() / 1000) });
  }
  // Fresh deployment, or the stored model predates this code's feature schema (devices
  // would refuse it): publish the bootstrap model as the next version.
  const bootstrap = bootstrapManifest(Math.floor(Date.now() / 1000), grrEpsilonOf(env.GRR_EPSILON));
  return publishModel(env, { ...bootstrap, version: (current?.version ?? 0) + 1, ...(aggregators ? { aggregators } : {}), measurement: measurementOf(env, aggregators) });
}

/**
 * How devices count segments: secure counts rounds whenever both aggregators' keys are
 * pinned (every two-aggregator deployment, `npm start` included), as DAP deployments do;
 * randomized reports (memoised GRR) only when the deployment sets `MEASUREMENT = "grr"`
 * or has no helper.
 *
 * @example
 * measurementOf({ ...env, MEASUREMENT: undefined }, { leader, helper }) // 'secure'
 */
export function measurementOf(env: Pick<Env, 'MEASUREMENT'>, aggregators: ModelManifest['aggregators'] | null): 'grr' | 'secure' {
  return env.MEASUREMENT !== 'grr' && aggregators ? 'secure' : 'grr';
}

/**
 * Both aggregators' HPKE configs to pin in the model, or null while either is not
 * available (no key configured, helper unreachable): the model is then served as is.
 */
async function pinnedAggregators(env: Env): Promise<ModelManifest['aggregators'] | null> {
  if (!env.HPKE_PRIVATE_JWK || !env.HELPER_URL || Date.now() < helperDownUntil) return null;
  try {
    const [leader, helper] = await Promise.all([aggregatorHpke(env), helperHpkeConfig(env)]);
    return { leader: leader.config, helper };
  } catch {
    helperDownUntil = Date.now() + HELPER_RETRY_MS; // do not slow every model fetch down while the helper is away
    return null;
  }
}

const HELPER_RETRY_MS = 30_000;
let helperDownUntil = 0;

/**
 * The manifest of a published version, or null when that version was never published.
 *
 * @example
 * const m = await manifestOf(env, 1);
 */
export async function manifestOf(env: Env, version: number): Promise<ModelManifest | null> {
  const cached = manifests.get(version);
  if (cached) return cached;
  const model = await registry(env).get(version);
  if (!model) return null;
  const parsed = parseManifest(JSON.parse(model.manifest));
  if (!parsed.ok) return null; // a model of an older feature schema: no device can use it any more
  manifests.set(version, parsed.value);
  return parsed.value;
}

/**
 * Published versions never change, so each isolate parses a version once: validating a
 * report batch then costs no Durable Object call after the first.
 */
const manifests = new Map<number, ModelManifest>();
