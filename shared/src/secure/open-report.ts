/**
 * The aggregator's side of `sealSecureVector`: open one's own sealed input share of
 * a report with the aad it was sealed with, and run Prio3's first preparation step on it.
 * The leader does this at ingest, the helper for each relayed report; both then need the
 * other's preparation share to decide validity (`verifyReport`).
 */
import type { RoundDescriptor, SealedShare } from '../rounds.ts';
import { base64urlToBytes } from './bytes.ts';
import { CONTRIBUTION_INFO, contributionAad, openShare, type AggregatorRole, type HpkeRecipientKey } from './hpke.ts';
import { prepareReport, reportNonce, vdafFor, type PreparedReport } from './prio3.ts';

/** A report as an aggregator holds it: its binding (round, id, slice, public share) and its own sealed input share. */
export interface SealedReport {
  round_id: string;
  id: string;
  slice: number;
  /** base64url, as the device sent it (the aad binds this text). */
  public_share: string;
  sealed: SealedShare;
  /** The bytes of `public_share`, when the caller already decoded them (the helper's relay check does), so they are not decoded twice. */
  publicShareBytes?: Uint8Array;
}

/**
 * Opens `role`'s input share of a report sealed to the round whose descriptor digest is
 * `digest`, and prepares it with the round's verify key. Throws a `ShareOpenError` when
 * the share does not open (another key, configuration, id, slice or public share, or
 * tampered bytes) and a `RangeError` when it opens but is not a well-formed input share.
 *
 * @example
 * const mine = await openAndPrepare(round, digest, verifyKey, 'leader', key, { ...body, sealed: body.leader });
 */
export async function openAndPrepare(
  round: Pick<RoundDescriptor, 'kind' | 'k' | 'd'>,
  digest: Uint8Array,
  verifyKey: Uint8Array,
  role: AggregatorRole,
  key: HpkeRecipientKey,
  report: SealedReport,
): Promise<PreparedReport> {
  const binding = { round_id: report.round_id, id: report.id, slice: report.slice, public_share: report.public_share };
  const inputShare = await openShare(key, report.sealed, CONTRIBUTION_INFO, contributionAad(binding, role, digest));
  const vdaf = vdafFor(round.kind, round.k, round.d);
  return prepareReport(vdaf, verifyKey, role === 'leader' ? 0 : 1, await reportNonce(report.round_id, report.id), report.publicShareBytes ?? base64urlToBytes(report.public_share), inputShare);
}
