/**
 * The contribution chunk (`/sdk/contribute.min.js`): loaded by the core SDK with
 * `import()` only when a device is about to contribute to an open secure round, so apps
 * that never contribute never pay for HPKE and the encoder. The core fetches the round
 * and checks that this device has not contributed to it yet; this chunk validates the
 * round against the signed model, builds and seals the contribution, and hands it back.
 */
import type { HpkeConfig } from '@edgeseg/shared';
import { buildSecureContribution } from '@edgeseg/shared/secure';
import { randomId } from '../ids.ts';
import { checkRound, type JoinRound, type RoundJob } from './job.ts';

export type { ContributionItem, RoundJob } from './job.ts';

const CONFIG_FIELDS = ['config_id', 'kem_id', 'kdf_id', 'aead_id', 'public_key'] as const;
const same = (a: HpkeConfig | undefined, b: HpkeConfig): boolean => !!a && CONFIG_FIELDS.every((f) => a[f] === b[f]);

/**
 * Joins an open secure round: validates it ({@link checkRound}), refuses it when its
 * leader or helper key differs from the keys pinned in the signed model (a leader must
 * not be able to substitute its own key for the helper's, which would let it open both
 * shares), or other than the helper key the app itself pins (`job.helper`, so that a
 * leader signing its own key into the model as the helper's is refused too), then clips, quantises and encodes the feature vector for its nearest
 * centroid, splits it into two additive shares mod 2^32 (`crypto.getRandomValues`),
 * seals each share to its aggregator under a fresh random id and hands the item to
 * `job.queue`. Throws (nothing queued) when it refuses.
 *
 * @example
 * await join({ kind: 'kmeans', round: await res.json(), model, x, nowMs: Date.now(), queue: (item, round) => release(item, round.epsilon) });
 */
export const join: JoinRound = async (job: RoundJob) => {
  const r = checkRound(job, 'secure');
  const pinned = job.model.aggregators;
  if (!pinned || !same(r.hpke.leader, pinned.leader) || !same(r.hpke.helper, pinned.helper)) {
    throw new Error(`contribute: round ${r.round_id} names HPKE keys other than the ones pinned in the signed model; nothing was sent`);
  }
  if (job.helper && !same(r.hpke.helper, job.helper)) throw new Error(`contribute: round ${r.round_id} and the model name a helper key other than the one the app pins; nothing was sent`);
  if (!job.x) throw new Error(`contribute: round ${r.round_id} needs the device's features`);
  const { body } = await buildSecureContribution(r, job.x, randomId());
  await job.queue({ id: body.id, purpose: 'model_improvement', createdAt: job.nowMs, contribution: body }, r);
};
