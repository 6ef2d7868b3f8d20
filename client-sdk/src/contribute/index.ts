/**
 * The contribution chunk (`/sdk/contribute.min.js`): loaded by the core SDK with
 * `import()` only when a device is about to contribute under `model_improvement`, so
 * apps that never contribute never pay for HPKE and the encoder. The core calls
 * `contribute`; `prepareContribution` is the validation and sealing it runs.
 */
import type { HpkeConfig, ModelManifest, SecureContribution } from '@edgeseg/shared';
import { buildSecureContribution, parseRoundDescriptor } from '@edgeseg/shared/secure';
import { randomId } from '../ids.ts';
import type { OutboxItem } from '../store.ts';

/** The aggregators' HPKE configs pinned by the signed model. */
export type PinnedAggregators = NonNullable<ModelManifest['aggregators']>;

function samePinned(a: HpkeConfig | undefined, b: HpkeConfig): boolean {
  return !!a && a.config_id === b.config_id && a.kem_id === b.kem_id && a.kdf_id === b.kdf_id && a.aead_id === b.aead_id && a.public_key === b.public_key;
}

/**
 * Validates an untrusted `GET /v1/rounds/current` answer and builds this device's secure
 * k-means contribution for it: `x` (the standardised feature vector) is clipped,
 * quantised, encoded for its nearest centroid, split into two additive shares mod 2^32
 * (`crypto.getRandomValues`) and each share sealed to its aggregator. Refuses a round
 * that is not a secure k-means round, and one whose leader or helper key differs from
 * the keys pinned in the signed model (a leader must not be able to substitute its own
 * key for the helper's, which would let it open both shares).
 *
 * @example
 * const body = await prepareContribution(await res.json(), x, manifest.aggregators, randomId());
 * await fetch('/v1/contributions', { method: 'POST', body: JSON.stringify(body) });
 */
export async function prepareContribution(round: unknown, x: Float32Array, pinned: PinnedAggregators, id: string): Promise<SecureContribution> {
  const parsed = parseRoundDescriptor(round);
  if (!parsed.ok) throw new Error(`contribute: invalid round: ${parsed.errors.slice(0, 3).join('; ')}`);
  const r = parsed.value;
  if (r.mode !== 'secure' || r.kind !== 'kmeans') throw new Error(`contribute: round ${r.round_id} is a ${r.mode} ${r.kind} round; this device only joins secure k-means rounds`);
  if (!samePinned(r.hpke.leader, pinned.leader) || !samePinned(r.hpke.helper, pinned.helper)) {
    throw new Error(`contribute: round ${r.round_id} names HPKE keys other than the ones pinned in the signed model; nothing was sent`);
  }
  return (await buildSecureContribution(r, x, id)).body;
}

/** A contribution as it waits in the outbox. */
export type ContributionItem = Extract<OutboxItem, { purpose: 'model_improvement' }>;

/**
 * The core's hook: builds this device's contribution to `round` ({@link prepareContribution},
 * under a fresh random id) and hands it to `queue`, which checks and charges it and puts it
 * in the outbox in one transaction. Throws (nothing queued) when the round is refused.
 *
 * @example
 * await contribute(round, x, manifest.aggregators, (item) => queueOnce(item));
 */
export async function contribute(round: unknown, x: Float32Array, pinned: PinnedAggregators, queue: (item: ContributionItem) => Promise<void>): Promise<void> {
  const body = await prepareContribution(round, x, pinned, randomId());
  await queue({ id: body.id, purpose: 'model_improvement', createdAt: Date.now(), contribution: body });
}
