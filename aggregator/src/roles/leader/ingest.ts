/**
 * The leader's side of a report's arrival (contract §3), pure over the key it is given:
 * open the leader's input share with the aad of the round it was sealed for, prepare it
 * with the round's verify key (the device's proof is not checked yet: that needs the
 * helper's preparation share), derive the report's group from its id, and return what
 * the shard keeps pending: the leader's output share, and the relay item for the
 * preparation exchange. Local mode has no proof: the device's noised vector is stored
 * as field elements at once.
 */
import type { LocalContribution, SecureContribution } from '@edgeseg/shared';
import {
  base64urlToBytes,
  bytesToBase64url,
  encodeFieldVector,
  fieldFromSigned,
  openAndPrepare,
  reportGroup,
  roundDigest,
  ShareOpenError,
  type HpkeRecipientKey,
  type PreparedReport,
} from '@edgeseg/shared/secure';
import { idDigest } from '../../round/bucket.ts';
import type { RoundRecord } from '../../round/record.ts';
import type { RelayItem } from '../../round/relay.ts';
import type { ShardItem } from '../../round/shard-store.ts';

/** One report as the leader's shard takes it: its output share, and the relay item (null in local mode, where it is summed at once). */
export interface LeaderShardItem extends ShardItem {
  relay: RelayItem | null;
}

/** The outcome of a secure report's arrival: a pending shard item, or the problem to answer. */
export type LeaderIngest = { ok: true; item: LeaderShardItem } | { ok: false; problem: 'undecryptable' | 'invalid-body'; detail: string };

/** What every report of a round is opened and grouped with: the descriptor's digest and the verify key's bytes. */
interface RoundKeys {
  digest: Uint8Array;
  verifyKey: Uint8Array;
}

/**
 * Per record object: a caller that keeps a round's record (the route, per isolate) hashes
 * its descriptor once, not once per report. Kept with the descriptor object and verify key
 * they were made from, so a record given another of either is hashed again.
 */
const keysOfRecord = new WeakMap<object, { descriptor: object; verifyKey: string; keys: Promise<RoundKeys> }>();

function roundKeys(record: Pick<RoundRecord, 'descriptor' | 'verify_key'>): Promise<RoundKeys> {
  const kept = keysOfRecord.get(record);
  if (kept && kept.descriptor === record.descriptor && kept.verifyKey === record.verify_key) return kept.keys;
  const keys = roundDigest(record.descriptor).then((digest) => ({ digest, verifyKey: base64urlToBytes(record.verify_key) }));
  keysOfRecord.set(record, { descriptor: record.descriptor, verifyKey: record.verify_key, keys });
  return keys;
}

/**
 * Opens and prepares a secure report (already parsed with the round's exact lengths).
 *
 * @example
 * const r = await ingestSecureReport(record, body, privateKey);
 * if (!r.ok) throw new ProblemError(r.problem, r.detail);
 */
export async function ingestSecureReport(record: Pick<RoundRecord, 'descriptor' | 'verify_key'>, body: SecureContribution, privateKey: HpkeRecipientKey): Promise<LeaderIngest> {
  const d = record.descriptor;
  const { digest, verifyKey } = await roundKeys(record);
  let prepared: PreparedReport;
  try {
    // Sealed to the digest of the descriptor devices were shown: the one this leader stores.
    prepared = await openAndPrepare(d, digest, verifyKey, 'leader', privateKey, { ...body, sealed: body.leader });
  } catch (err) {
    if (err instanceof ShareOpenError) return { ok: false, problem: 'undecryptable', detail: "the leader share does not open with this round's configuration, id, slice and public share" };
    if (!(err instanceof RangeError)) throw err;
    return { ok: false, problem: 'invalid-body', detail: `leader input share: ${err.message}` };
  }
  const relay: RelayItem = {
    id: body.id,
    slice: body.slice,
    public_share: body.public_share,
    sealed: { config_id: body.helper.config_id, enc: body.helper.enc, ct: body.helper.ct },
    prep_share: bytesToBase64url(prepared.prepShare),
    joint_rand_seed: bytesToBase64url(prepared.jointRandSeed),
  };
  return {
    ok: true,
    item: {
      id: body.id,
      slice: body.slice,
      group: await reportGroup(verifyKey, body.id, d.groups),
      digest: await idDigest(body.id),
      share: encodeFieldVector(prepared.outputShare),
      relay,
    },
  };
}

/**
 * A local-mode contribution as a shard item: its noised int32 vector as field elements,
 * in the group derived from its id with the round's verify key (as in secure mode).
 *
 * @example
 * await shard.add(roundId, length, [await localShardItem(record, body)]);
 */
export async function localShardItem(record: Pick<RoundRecord, 'descriptor' | 'verify_key'>, body: LocalContribution): Promise<LeaderShardItem> {
  const group = await reportGroup(base64urlToBytes(record.verify_key), body.id, record.descriptor.groups);
  return { id: body.id, slice: body.slice, group, digest: await idDigest(body.id), share: encodeFieldVector(body.noised.map(fieldFromSigned)), relay: null };
}
