/**
 * The contribution chunk (`contribute.min.js`): loaded by the core SDK with
 * `import()` only when a device is about to contribute to an open secure round (a k-means
 * round under model_improvement, or the week's counts round under measurement), so apps
 * that never contribute never pay for HPKE, Prio3 and the encoder. The core fetches the round
 * and checks that this device has not contributed to it yet; this chunk validates the
 * round against the signed model, builds and seals the contribution, and hands it back.
 */
import { countsCategories, measureOf } from '@edgeseg/shared';
import { buildSecureContribution, buildSecureCountContribution, sameHpkeConfig } from '@edgeseg/shared/secure';
import { randomId } from '../ids.ts';
import { checkRound, refuse, type JoinRound, type RoundJob } from './job.ts';

export type { ContributionItem, RoundJob } from './job.ts';

/**
 * Joins an open secure round: validates it ({@link checkRound}), refuses it when its
 * leader or helper key differs from the keys pinned in the signed model (a leader must
 * not be able to substitute its own key for the helper's, which would let it open both
 * shares), or other than the helper key the app itself pins (`job.helper`, so that a
 * leader signing its own key into the model as the helper's is refused too). A k-means
 * round: clips, quantises and encodes the feature vector for its nearest centroid of the
 * round's slice. A counts round (of the measure and week the core asked for, with one entry
 * per category the signed model gives that measure, plus "none"): the one-hot of `job.counts.value`.
 * Either vector is sharded into a Prio3 report with its validity proof (counts: a
 * histogram, so a report adds exactly 1 to one entry; k-means: a vector of 8-bit
 * entries, so a report moves each entry of a sum by at most 128), each input share
 * sealed to its aggregator under a fresh random id (randomness from
 * `crypto.getRandomValues`), and handed to `job.queue` under model_improvement (k-means)
 * or measurement (counts). The body names no group: the aggregators derive it from the
 * id. Throws (nothing queued) when it refuses.
 *
 * @example
 * await join({ kind: 'kmeans', round: await res.json(), model, x, nowMs: Date.now(), queue: (item, round) => release(item, round.epsilon) });
 */
export const join: JoinRound = async (job: RoundJob) => {
  const r = checkRound(job, 'secure');
  const pinned = job.model.aggregators;
  if (!pinned || !sameHpkeConfig(r.hpke.leader, pinned.leader) || !sameHpkeConfig(r.hpke.helper, pinned.helper)) refuse(r, 'names HPKE keys other than the ones pinned in the signed model');
  if (job.helper && !sameHpkeConfig(r.hpke.helper, job.helper)) refuse(r, 'and the model name a helper key other than the one the app pins');
  const c = job.counts;
  if (r.kind === 'counts') {
    const measure = c ? c.measure : 'segment';
    const k = countsCategories(measure, job.model).length;
    // A round of another measure, week or k would file this device's value under the wrong categories.
    if (!c || measureOf(r) !== measure || r.period !== c.period || r.k !== k || !k) refuse(r, `does not count the ${k} ${measure} categories of ${c ? c.period : 'the week asked for'}`);
    const body = await buildSecureCountContribution(r, c.value, randomId());
    return job.queue({ id: body.id, purpose: 'measurement', createdAt: job.nowMs, contribution: body }, r);
  }
  if (!job.x) throw new Error(`contribute: round ${r.round_id} needs the device's features`);
  const { body } = await buildSecureContribution(r, job.x, randomId());
  await job.queue({ id: body.id, purpose: 'model_improvement', createdAt: job.nowMs, contribution: body }, r);
};
