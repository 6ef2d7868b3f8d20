/**
 * The helper's decision on one relayed report (the preparation exchange, contract §4):
 * open its own input share with the digest of the configuration it accepted, prepare it
 * with the round's verify key, and combine its preparation share with the leader's: the
 * report is verified only when the proof holds and both sides agree on the joint
 * randomness. Only then is its output share stored, in the group the helper derives
 * itself from the id. Every failure (malformed item, wrong key, forged proof) is a
 * rejection of that item alone, never a throw. Pure over an injected key lookup.
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import { encodeFieldVector, openAndPrepare, reportGroup, vdafFor, verifyReport, type HpkeRecipientKey } from '@edgeseg/shared/secure';
import { idDigest } from '../../round/bucket.ts';
import { checkRelayItem, relayItemId } from '../../round/relay.ts';
import type { ShardItem } from '../../round/shard-store.ts';

/** What the helper decides a relayed report with. */
export interface HelperVerifyContext {
  descriptor: RoundDescriptor;
  /** roundDigest of the descriptor the helper accepted (bytes). */
  digest: Uint8Array;
  /** The round's verify key, as the leader sent it when opening the round. */
  verifyKey: Uint8Array;
  /** The helper's private key for a config id (throws for a key this round cannot use). */
  openingKey(configId: number): Promise<HpkeRecipientKey>;
}

/** The helper's decision on one item: verified (with the output share to store) or rejected. */
export type RelayedReportDecision = { id: string; verified: true; item: ShardItem } | { id: string; verified: false };

/** Per context (one per relayed batch): each config id's key looked up once, not once per report of the batch. */
const keysOfContext = new WeakMap<HelperVerifyContext, Map<number, Promise<HpkeRecipientKey>>>();

function openingKeyOnce(ctx: HelperVerifyContext, configId: number): Promise<HpkeRecipientKey> {
  let keys = keysOfContext.get(ctx);
  if (!keys) {
    keys = new Map();
    keysOfContext.set(ctx, keys);
  }
  let key = keys.get(configId);
  if (!key) {
    key = ctx.openingKey(configId);
    keys.set(configId, key);
  }
  return key;
}

/**
 * Decides one relayed item (index `index` of its batch).
 *
 * @example
 * const d = await decideRelayedReport(raw, i, { descriptor, digest, verifyKey, openingKey });
 * if (d.verified) toStore.push(d.item); else rejected.push(d.id);
 */
export async function decideRelayedReport(raw: unknown, index: number, ctx: HelperVerifyContext): Promise<RelayedReportDecision> {
  const id = relayItemId(raw, index);
  const d = ctx.descriptor;
  const item = checkRelayItem(raw, d);
  if (!item) return { id, verified: false };
  try {
    const key = await openingKeyOnce(ctx, item.sealed.config_id);
    const mine = await openAndPrepare(d, ctx.digest, ctx.verifyKey, 'helper', key, {
      round_id: d.round_id,
      id: item.id,
      slice: item.slice,
      public_share: item.public_share,
      publicShareBytes: item.publicShare, // decoded by checkRelayItem from the same text
      sealed: item.sealed,
    });
    if (!(await verifyReport(vdafFor(d.kind, d.k, d.d), item.prepShare, mine.prepShare, item.jointRandSeed, mine.jointRandSeed))) return { id, verified: false };
    const group = await reportGroup(ctx.verifyKey, item.id, d.groups);
    return { id, verified: true, item: { id: item.id, slice: item.slice, group, digest: await idDigest(item.id), share: encodeFieldVector(mine.outputShare) } };
  } catch {
    // Sealed to another configuration or key, or an input share that does not decode: invalid.
    return { id, verified: false };
  }
}
