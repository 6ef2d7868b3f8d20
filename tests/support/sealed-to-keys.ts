/**
 * A device's secure k-means contribution sealed to given aggregator keys, for key
 * rotation tests: a device may seal to a key the round does not name (the aggregator's
 * current key after a rotation), but its aad always binds the digest of the round as it
 * was shown, which names the round's own keys.
 */
import { flattenCentroids, type HpkeConfig, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import { encodeKmeansContribution } from '@edgeseg/shared/secure';
import { handBuiltReport } from './prio3-device.ts';

/**
 * Encodes `x` against slice 0 of `round`, shards it into a Prio3 report, and seals the
 * two input shares to `keys` with the aad (v3) of `round`.
 *
 * @example
 * const body = await contributionSealedTo(round, { leader: newLeader, helper: oldHelper }, x, id);
 */
export async function contributionSealedTo(round: RoundDescriptor, keys: { leader: HpkeConfig; helper: HpkeConfig }, x: Float32Array, id: string): Promise<SecureContribution> {
  const { vector } = encodeKmeansContribution(x, flattenCentroids(round.slices[0] ?? []), round.encoding);
  return (await handBuiltReport(round, { vector }, id, 0, { keys })).body;
}
