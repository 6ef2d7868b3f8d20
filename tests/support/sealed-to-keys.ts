/**
 * A device's secure k-means contribution sealed to given aggregator keys, for key
 * rotation tests: a device may seal to a key the round does not name (the aggregator's
 * current key after a rotation), but its aad always binds the digest of the round as it
 * was shown, which names the round's own keys.
 */
import { flattenCentroids, type HpkeConfig, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import { CONTRIBUTION_INFO, contributionAad, encodeKmeansContribution, roundDigest, sealShare, splitWithSeed, uint32ToBytesLE } from '@edgeseg/shared/secure';

/**
 * Encodes `x` against slice 0 of `round`, splits it, and seals the two shares to `keys`
 * with the aad of `round` (group 0).
 *
 * @example
 * const body = await contributionSealedTo(round, { leader: newLeader, helper: oldHelper }, x, id);
 */
export async function contributionSealedTo(round: RoundDescriptor, keys: { leader: HpkeConfig; helper: HpkeConfig }, x: Float32Array, id: string): Promise<SecureContribution> {
  const binding = { round_id: round.round_id, id, slice: 0, group: 0 };
  const digest = await roundDigest(round);
  const { vector } = encodeKmeansContribution(x, flattenCentroids(round.slices[0] ?? []), round.encoding);
  const { leader, helperSeed } = await splitWithSeed(vector);
  return {
    ...binding,
    leader: await sealShare(keys.leader, uint32ToBytesLE(leader), CONTRIBUTION_INFO, contributionAad(binding, 'leader', digest)),
    helper: await sealShare(keys.helper, helperSeed, CONTRIBUTION_INFO, contributionAad(binding, 'helper', digest)),
  };
}
