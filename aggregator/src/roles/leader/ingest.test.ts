/**
 * The preparation exchange as pure code, both sides: a device's real Prio3 report is
 * ingested by the leader (opened, prepared, kept pending with its relay item) and decided
 * by the helper (opened, prepared, verified). A valid report verifies; a report whose
 * proof fails, a tampered or malformed relay item, or a share sealed for another round
 * is rejected on its own without throwing.
 */
import type { RoundDescriptor, SecureContribution } from '@edgeseg/shared';
import {
  bytesToBase64url,
  CONTRIBUTION_INFO,
  contributionAad,
  decodeFieldVector,
  FIELD,
  generateHpkeKeyPair,
  importHpkePrivateKey,
  measurementOf,
  encodeCountContribution,
  newVerifyKey,
  reportGroup,
  reportNonce,
  roundDigest,
  sealSecureVector,
  sealShare,
  shardReport,
  vdafFor,
  type HpkeRecipientKey,
} from '@edgeseg/shared/secure';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideRelayedReport, type HelperVerifyContext } from '../helper/verify.ts';
import { ingestSecureReport, localShardItem } from './ingest.ts';

const K = 4;
let round: RoundDescriptor;
let leaderKey: HpkeRecipientKey;
let helperKey: HpkeRecipientKey;
const verifyKey = newVerifyKey();
const record = () => ({ descriptor: round, verify_key: bytesToBase64url(verifyKey) });

beforeAll(async () => {
  const leader = await generateHpkeKeyPair(1);
  const helper = await generateHpkeKeyPair(2);
  leaderKey = await importHpkePrivateKey(leader.privateKeyJwk);
  helperKey = await importHpkePrivateKey(helper.privateKeyJwk);
  round = {
    round_id: 'c-2026-W47-v3', kind: 'counts', mode: 'secure', model_version: 3, k: K, d: 0, slices: [[[], [], [], []]], groups: 4,
    encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
    epsilon: 1, delta: 1e-9, opens_at: 1_899_996_400, closes_at: 1_900_000_000, min_batch: 100, period: '2026-W47',
    hpke: { leader: leader.config, helper: helper.config },
  };
});

async function helperContext(descriptor: RoundDescriptor = round): Promise<HelperVerifyContext> {
  return { descriptor, digest: await roundDigest(descriptor), verifyKey, openingKey: async () => helperKey };
}

/** A device's report whose leader input share was altered after the proof was made (a measurement share entry + 1). */
async function forgedReport(id: string): Promise<SecureContribution> {
  const vdaf = vdafFor('counts', K, 0);
  const report = await shardReport(vdaf, measurementOf('counts', encodeCountContribution(1, K, 1)), await reportNonce(round.round_id, id));
  const leader = report.leader.slice();
  leader[0] = (leader[0] as number) ^ 1; // still a reduced field element: it decodes, the proof no longer holds
  const binding = { round_id: round.round_id, id, slice: 0, public_share: bytesToBase64url(report.publicShare) };
  const digest = await roundDigest(round);
  return {
    ...binding,
    leader: await sealShare(round.hpke.leader, leader, CONTRIBUTION_INFO, contributionAad(binding, 'leader', digest)),
    helper: await sealShare(round.hpke.helper as NonNullable<RoundDescriptor['hpke']['helper']>, report.helper, CONTRIBUTION_INFO, contributionAad(binding, 'helper', digest)),
  };
}

describe('leader ingest and helper verification of a Prio3 report', () => {
  it('verifies an honest report: both output shares sum to the one-hot vector, in the group both derive from the id', async () => {
    const id = 'honest-device-000000001';
    const body = await sealSecureVector(round, encodeCountContribution(2, K, 1), id);
    const t0 = performance.now();
    const ingested = await ingestSecureReport(record(), body, leaderKey);
    const tIngest = performance.now() - t0;
    if (!ingested.ok) throw new Error(ingested.detail);
    const { item } = ingested;
    expect(item.relay).toMatchObject({ id, slice: 0, public_share: body.public_share, sealed: body.helper });
    expect(item.group).toBe(await reportGroup(verifyKey, id, round.groups));

    const t1 = performance.now();
    const decision = await decideRelayedReport(JSON.parse(JSON.stringify(item.relay)), 0, await helperContext());
    const tHelper = performance.now() - t1;
    if (!decision.verified) throw new Error('an honest report was rejected');
    expect(decision.item.group).toBe(item.group);
    const leaderShare = decodeFieldVector(item.share);
    const helperShare = decodeFieldVector(decision.item.share);
    const p = FIELD.modulus;
    expect(leaderShare.map((x, i) => (x + (helperShare[i] as bigint)) % p)).toEqual([0n, 0n, 1n, 0n, 0n]);
    console.info(`counts k=${K}: leader ingest ${tIngest.toFixed(1)} ms, helper decision ${tHelper.toFixed(1)} ms`);
  });

  it('rejects a report whose proof fails (a share altered after proving)', async () => {
    const ingested = await ingestSecureReport(record(), await forgedReport('forged-device-00000001'), leaderKey);
    if (!ingested.ok) throw new Error(ingested.detail);
    expect(await decideRelayedReport(ingested.item.relay, 0, await helperContext())).toEqual({ id: 'forged-device-00000001', verified: false });
  });

  it('rejects a tampered relay item: another preparation share, joint-rand seed, or public share', async () => {
    const ingested = await ingestSecureReport(record(), await sealSecureVector(round, encodeCountContribution(0, K, 1), 'tamper-device-0000001'), leaderKey);
    if (!ingested.ok) throw new Error(ingested.detail);
    const relay = ingested.item.relay as NonNullable<typeof ingested.item.relay>;
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const tampered of [{ ...relay, prep_share: flip(relay.prep_share) }, { ...relay, joint_rand_seed: flip(relay.joint_rand_seed) }, { ...relay, public_share: flip(relay.public_share) }]) {
      expect(await decideRelayedReport(tampered, 3, await helperContext())).toEqual({ id: relay.id, verified: false });
    }
    // The untouched item still verifies (the rejections were the tampering's).
    expect((await decideRelayedReport(relay, 0, await helperContext())).verified).toBe(true);
  });

  it('rejects a malformed item on its own, null included, without throwing', async () => {
    const ingested = await ingestSecureReport(record(), await sealSecureVector(round, encodeCountContribution(null, K, 1), 'malformed-device-00001'), leaderKey);
    if (!ingested.ok) throw new Error(ingested.detail);
    const relay = ingested.item.relay as NonNullable<typeof ingested.item.relay>;
    const ctx = await helperContext();
    expect(await decideRelayedReport(null, 7, ctx)).toEqual({ id: 'items[7]', verified: false });
    expect(await decideRelayedReport('x', 1, ctx)).toEqual({ id: 'items[1]', verified: false });
    for (const bad of [
      { ...relay, slice: 1 },
      { ...relay, slice: '0' },
      { ...relay, sealed: null },
      { ...relay, sealed: JSON.stringify(relay.sealed) },
      { ...relay, sealed: { ...relay.sealed, ct: relay.sealed.ct.slice(4) } },
      { ...relay, prep_share: relay.prep_share.slice(4) },
      { ...relay, joint_rand_seed: 42 },
      { ...relay, public_share: `${relay.public_share}AA` },
    ]) {
      expect(await decideRelayedReport(bad, 0, ctx)).toEqual({ id: relay.id, verified: false });
    }
  });

  it('rejects a helper share that does not open with the accepted configuration, and refuses a leader share sealed to another', async () => {
    const body = await sealSecureVector(round, encodeCountContribution(1, K, 1), 'other-config-device-01');
    const ingested = await ingestSecureReport(record(), body, leaderKey);
    if (!ingested.ok) throw new Error(ingested.detail);
    const other = { ...round, min_batch: 101 };
    expect((await decideRelayedReport(ingested.item.relay, 0, await helperContext(other))).verified).toBe(false);
    expect(await ingestSecureReport({ ...record(), descriptor: other }, body, leaderKey)).toMatchObject({ ok: false, problem: 'undecryptable' });
  });

  it('opens many reports with one record object (its digest made once), and hashes again when the record names another descriptor', async () => {
    const kept = record();
    for (const id of ['kept-record-device-0001', 'kept-record-device-0002']) {
      expect((await ingestSecureReport(kept, await sealSecureVector(round, encodeCountContribution(0, K, 1), id), leaderKey)).ok).toBe(true);
    }
    const body = await sealSecureVector(round, encodeCountContribution(3, K, 1), 'kept-record-device-0003');
    kept.descriptor = { ...round, min_batch: 101 };
    expect(await ingestSecureReport(kept, body, leaderKey)).toMatchObject({ ok: false, problem: 'undecryptable' });
    kept.descriptor = round;
    expect((await ingestSecureReport(kept, body, leaderKey)).ok).toBe(true);
  });

  it('looks up the helper key of a config id once per batch context, and rejects every item of a batch whose key lookup fails', async () => {
    const relays = [];
    for (const id of ['batch-key-device-00001', 'batch-key-device-00002', 'batch-key-device-00003']) {
      const ingested = await ingestSecureReport(record(), await sealSecureVector(round, encodeCountContribution(1, K, 1), id), leaderKey);
      if (!ingested.ok) throw new Error(ingested.detail);
      relays.push(JSON.parse(JSON.stringify(ingested.item.relay)) as unknown);
    }
    const lookups: number[] = [];
    const ctx: HelperVerifyContext = { ...(await helperContext()), openingKey: async (configId) => {
        lookups.push(configId);
        return helperKey;
      },
    };
    for (const [i, relay] of relays.entries()) expect((await decideRelayedReport(relay, i, ctx)).verified).toBe(true);
    expect(lookups).toEqual([round.hpke.helper?.config_id]);

    const refusing: HelperVerifyContext = { ...(await helperContext()), openingKey: async () => Promise.reject(new Error('no such key for this round')) };
    for (const [i, relay] of relays.entries()) expect((await decideRelayedReport(relay, i, refusing)).verified).toBe(false);
  });

  it('stores a local contribution as field elements in the group derived from its id', async () => {
    const item = await localShardItem({ ...record(), descriptor: { ...round, mode: 'local' } }, { round_id: round.round_id, id: 'local-device-000000001', slice: 0, noised: [3, -2, 0, 1, -7] });
    const p = FIELD.modulus;
    expect(decodeFieldVector(item.share)).toEqual([3n, p - 2n, 0n, 1n, p - 7n]);
    expect(item.group).toBe(await reportGroup(verifyKey, 'local-device-000000001', round.groups));
    expect(item.relay).toBeNull();
  });
});
