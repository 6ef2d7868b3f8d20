/**
 * The local-mode contribution chunk (`contribute-local.min.js`), for single-operator
 * deployments: the device adds the round's discrete Gaussian noise itself and uploads
 * the noised vector to the leader, so no server ever holds its exact contribution. It is
 * a chunk of its own so that devices in secure deployments never download the sampler,
 * and devices here never download HPKE.
 */
import { flattenCentroids, randomBelow } from '@edgeseg/shared';
import { addDiscreteGaussianNoise, rational, sigma2ForEpsilon, type Rational } from '@edgeseg/shared/dp';
import { encodeKmeansContribution } from '@edgeseg/shared/secure';
import { randomId } from '../ids.ts';
import { checkRound, refuse, type JoinRound, type RoundJob } from './job.ts';

export type { ContributionItem, RoundJob } from './job.ts';

/**
 * The round's σ² exactly as the server wrote it: `local_sigma2` is a JSON number, and the
 * shortest decimal that reads back as that double (`String`) is the decimal the server
 * planned whenever it has at most 15 significant digits (the planner's ~7).
 */
function statedSigma2(localSigma2: number): Rational {
  return rational(String(localSigma2));
}

/** a ≥ b, exactly. */
function atLeast(a: Rational, b: Rational): boolean {
  return a.num * b.den >= b.num * a.den;
}

/**
 * Joins an open local-mode k-means round: validates it ({@link checkRound}), refuses it
 * whenever a helper is pinned, by the signed model (`aggregators`) or by the app
 * (`job.helper`), since on a two-aggregator deployment a local round would let the leader
 * collect outside the helper's policy (only single-operator deployments run them), and
 * unless its `local_sigma2` is at least what (ε, δ) at L2 sensitivity `encoding.bound`
 * needs (`sigma2ForEpsilon`), so the noise this device adds really buys the ε it
 * charges (nothing is sealed in this mode, so no key is checked). Then it draws a slice
 * (`crypto.getRandomValues`), encodes the feature vector against that slice's centroids,
 * adds an exact N_Z(0, local_sigma2) sample to every entry and hands
 * `{ round_id, id, slice, noised }` to `job.queue` under model_improvement. No group: the
 * leader derives it from the id with a key the device never sees, so a device cannot
 * pick the group it lands in.
 * Throws (nothing queued) when it refuses.
 *
 * @example
 * await join({ kind: 'kmeans', round: await res.json(), model, x, nowMs: Date.now(), queue: (item, round) => release(item, round.epsilon) });
 */
export const join: JoinRound = async (job: RoundJob) => {
  const r = checkRound(job, 'local');
  if (r.kind !== 'kmeans') refuse(r, 'is not a k-means round');
  if (job.model.aggregators || job.helper) refuse(r, `is a local-mode round, but ${job.helper ? 'the app' : 'the signed model'} pins a helper: contributions go through the helper`);
  const sigma2 = statedSigma2(r.local_sigma2 as number); // checkRound: a local round carries it
  if (!atLeast(sigma2, sigma2ForEpsilon(r.epsilon, r.delta, r.encoding.bound))) refuse(r, `adds too little noise for ε = ${r.epsilon}`);
  if (!job.x) throw new Error(`contribute: round ${r.round_id} needs the device's features`);
  if (job.x.length !== r.d) refuse(r, `has d = ${r.d}, not the model's ${job.x.length} features`);
  const slice = randomBelow(r.slices.length);
  const { vector } = encodeKmeansContribution(job.x, flattenCentroids(r.slices[slice] as number[][]), r.encoding);
  // Noise mod 2^32 on the same words, read back as int32: the exact sum unless it leaves
  // int32, and the server sums mod 2^32 either way.
  addDiscreteGaussianNoise(new Uint32Array(vector.buffer), sigma2);
  const contribution = { round_id: r.round_id, id: randomId(), slice, noised: Array.from(vector) };
  await job.queue({ id: contribution.id, purpose: 'model_improvement', createdAt: job.nowMs, contribution }, r);
};
