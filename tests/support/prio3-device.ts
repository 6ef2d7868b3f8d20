/**
 * Devices' Prio3 reports built by hand, for tests that play a device (honest, crafted at
 * the proved limit, or forged beyond it) or a leader relaying them: the same steps as
 * `sealSecureVector` (shard, aad v3, seal), but keeping the raw input shares as ground
 * truth and letting a test feed the library's prover an encoding no honest device makes.
 */
import type { HpkeConfig, RandomSource, RoundDescriptor, SecureContribution } from '@edgeseg/shared';
import {
  CONTRIBUTION_INFO,
  bytesToBase64url,
  contributionAad,
  measurementOf,
  prepareReport,
  reportNonce,
  roundDigest,
  sealShare,
  shardReport,
  vdafFor,
  type PreparedReport,
  type ReportVdaf,
} from '@edgeseg/shared/secure';

/** A report as the device built it, with its raw input shares (never on the wire in the clear). */
export interface HandBuiltReport {
  body: SecureContribution;
  publicShare: Uint8Array;
  leaderInput: Uint8Array;
  helperInput: Uint8Array;
}

/** How a test wants the report's measurement made. */
export type ReportMeasurement =
  /** An encoded contribution vector, sharded honestly (any vector the proof accepts: at the limit is fine). */
  | { vector: Int32Array }
  /** The circuit's encoded measurement replaced by these field elements: what a cheating device's prover is fed. */
  | { forged: bigint[] };

/**
 * Shards with the library's prover fed `encoded` instead of the honest encoding of a
 * measurement (as shared/src/secure/prio3.test.ts does): the proof is computed over an
 * invalid input, which verification must catch.
 *
 * @example
 * const report = await shardForged(vdafFor('counts', 8, 0), million, nonce);
 */
export async function shardForged(vdaf: ReportVdaf, encoded: bigint[], nonce: Uint8Array): ReturnType<typeof shardReport> {
  // The library's FLP object exposes `encode`; swapping it is the cheapest way to run its prover on a lie.
  const flp = vdaf.flp as unknown as { encode: (m: unknown) => bigint[] };
  const original = flp.encode;
  flp.encode = () => encoded;
  try {
    return await shardReport(vdaf, 0 as never, nonce);
  } finally {
    flp.encode = original;
  }
}

/**
 * A device's secure report for `round` (the descriptor it was shown), sealed to `keys`
 * (by default the round's own), with the raw shares kept. `tamperLeader` flips one bit
 * of the leader's input share before sealing (the share still decodes; the proof fails);
 * `random` seeds the sharding (an honest measurement only), for reproducible shares.
 *
 * @example
 * const r = await handBuiltReport(round, { vector }, id, 0);
 */
export async function handBuiltReport(
  round: RoundDescriptor,
  measurement: ReportMeasurement,
  id: string,
  slice: number,
  opts: { keys?: { leader: HpkeConfig; helper: HpkeConfig }; tamperLeader?: boolean; random?: RandomSource } = {},
): Promise<HandBuiltReport> {
  const keys = opts.keys ?? { leader: round.hpke.leader, helper: round.hpke.helper as HpkeConfig };
  if (!keys.helper) throw new RangeError('handBuiltReport: a secure round names a helper key');
  const vdaf = vdafFor(round.kind, round.k, round.d);
  const nonce = await reportNonce(round.round_id, id);
  const shards = 'vector' in measurement ? await shardReport(vdaf, measurementOf(round.kind, measurement.vector), nonce, opts.random) : await shardForged(vdaf, measurement.forged, nonce);
  const leaderInput = shards.leader.slice();
  // Bit 0 of the first measurement-share element: the element stays below p, so only the proof can tell.
  if (opts.tamperLeader) leaderInput[0] = (leaderInput[0] as number) ^ 1;
  const public_share = bytesToBase64url(shards.publicShare);
  const binding = { round_id: round.round_id, id, slice, public_share };
  const digest = await roundDigest(round);
  const [leader, helper] = await Promise.all([
    sealShare(keys.leader, leaderInput, CONTRIBUTION_INFO, contributionAad(binding, 'leader', digest)),
    sealShare(keys.helper, shards.helper, CONTRIBUTION_INFO, contributionAad(binding, 'helper', digest)),
  ]);
  return { body: { ...binding, leader, helper }, publicShare: shards.publicShare, leaderInput, helperInput: shards.helper };
}

/** A relay item of the preparation exchange (contract: `POST /internal/v1/shares`). */
export interface RelayItem {
  id: string;
  slice: number;
  public_share: string;
  sealed: { config_id: number; enc: string; ct: string };
  prep_share: string;
  joint_rand_seed: string;
}

/**
 * What a leader relays for a report it prepared: the helper's sealed share, the public
 * share, and the leader's preparation share and joint-randomness seed.
 *
 * @example
 * const item = relayItemOf(report.body, await prepareAs(round, verifyKey, 0, report));
 */
export function relayItemOf(body: SecureContribution, leader: PreparedReport): RelayItem {
  return {
    id: body.id,
    slice: body.slice,
    public_share: body.public_share,
    sealed: { config_id: body.helper.config_id, enc: body.helper.enc, ct: body.helper.ct },
    prep_share: bytesToBase64url(leader.prepShare),
    joint_rand_seed: bytesToBase64url(leader.jointRandSeed),
  };
}

/**
 * One aggregator's preparation of a hand-built report from its raw input share (ground
 * truth for a test: what that aggregator computes once it has opened its share).
 *
 * @example
 * const helperView = await prepareAs(round, verifyKey, 1, report);
 */
export async function prepareAs(round: RoundDescriptor, verifyKey: Uint8Array, aggregatorId: 0 | 1, report: HandBuiltReport): Promise<PreparedReport> {
  return prepareReport(
    vdafFor(round.kind, round.k, round.d),
    verifyKey,
    aggregatorId,
    await reportNonce(round.round_id, report.body.id),
    report.publicShare,
    aggregatorId === 0 ? report.leaderInput : report.helperInput,
  );
}
