import { describe, expect, it } from 'vitest';
import { addFieldInto, combineFieldShares, decodeFieldVector, encodeFieldVector, FIELD, zeroFieldVector } from './field.ts';
import { encodeCountContribution } from './encode.ts';
import {
  SUMVEC_OFFSET,
  measurementOf,
  newVerifyKey,
  prepareReport,
  removeOffset,
  reportGroup,
  reportNonce,
  reportSizes,
  shardReport,
  vdafFor,
  verifyReport,
  type ReportVdaf,
} from './prio3.ts';

/** Both aggregators' view of one report, as the leader's ingest and the helper's relay run it. */
async function runReport(vdaf: ReportVdaf, report: { publicShare: Uint8Array; leader: Uint8Array; helper: Uint8Array }, nonce: Uint8Array, verifyKey: Uint8Array) {
  const leader = await prepareReport(vdaf, verifyKey, 0, nonce, report.publicShare, report.leader);
  const helper = await prepareReport(vdaf, verifyKey, 1, nonce, report.publicShare, report.helper);
  const valid = await verifyReport(vdaf, leader.prepShare, helper.prepShare, leader.jointRandSeed, helper.jointRandSeed);
  return { leader, helper, valid };
}

/** A device that shards a measurement the circuit forbids: the library's own prover, fed an invalid encoding. */
async function shardForged(vdaf: ReportVdaf, encoded: bigint[], nonce: Uint8Array) {
  const flp = vdaf.flp as unknown as { encode: (m: unknown) => bigint[] };
  const original = flp.encode;
  flp.encode = () => encoded;
  try {
    return await shardReport(vdaf, 0 as never, nonce);
  } finally {
    flp.encode = original;
  }
}

describe('Prio3 reports', () => {
  it('a counts report verifies on both aggregators and sums to its one-hot vector', async () => {
    const vdaf = vdafFor('counts', 8, 0);
    const nonce = await reportNonce('r-1', 'abcdefghijklmnop');
    const verifyKey = newVerifyKey();
    const report = await shardReport(vdaf, measurementOf('counts', encodeCountContribution(3, 8, 1)), nonce);
    expect(report.helper.length).toBe(reportSizes(vdaf).helper);
    expect(report.leader.length).toBe(reportSizes(vdaf).leader);
    const { leader, helper, valid } = await runReport(vdaf, report, nonce, verifyKey);
    expect(valid).toBe(true);
    expect([...combineFieldShares(leader.outputShare, helper.outputShare)]).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('a k-means report verifies and its offset comes off the sum', async () => {
    const vdaf = vdafFor('kmeans', 2, 2); // 2 · (2 + 3) = 10 entries
    const vector = Int32Array.from([5, -7, 1, 0, 127, 0, 0, 0, 0, -128]);
    const nonce = await reportNonce('r-2', 'abcdefghijklmnop');
    const report = await shardReport(vdaf, measurementOf('kmeans', vector), nonce);
    const { leader, helper, valid } = await runReport(vdaf, report, nonce, newVerifyKey());
    expect(valid).toBe(true);
    expect([...removeOffset('kmeans', combineFieldShares(leader.outputShare, helper.outputShare), 1)]).toEqual([...vector]);
  });

  it('refuses to shard a vector outside the proved range (the honest encoder never makes one)', () => {
    expect(() => measurementOf('kmeans', Int32Array.from([SUMVEC_OFFSET]))).toThrow(RangeError);
    expect(() => measurementOf('counts', Int32Array.from([0, 2, 0]))).toThrow(RangeError);
    expect(() => measurementOf('counts', Int32Array.from([1, 1, 0]))).toThrow(RangeError);
  });

  it('a forged histogram (a million in one bucket) fails verification', async () => {
    const vdaf = vdafFor('counts', 8, 0);
    const nonce = await reportNonce('r-3', 'abcdefghijklmnop');
    const forged = zeroFieldVector(9);
    forged[2] = 1_000_000n;
    const { valid } = await runReport(vdaf, await shardForged(vdaf, forged, nonce), nonce, newVerifyKey());
    expect(valid).toBe(false);
  });

  it('a forged k-means entry (out of range) fails verification', async () => {
    const vdaf = vdafFor('kmeans', 1, 1); // 4 entries × 8 bits
    const nonce = await reportNonce('r-4', 'abcdefghijklmnop');
    const bits = zeroFieldVector(4 * 8);
    bits[0] = 5000n; // a "bit" that is not 0 or 1
    const { valid } = await runReport(vdaf, await shardForged(vdaf, bits, nonce), nonce, newVerifyKey());
    expect(valid).toBe(false);
  });

  it('a tampered leader share, another nonce or another verify key fails', async () => {
    const vdaf = vdafFor('counts', 4, 0);
    const nonce = await reportNonce('r-5', 'abcdefghijklmnop');
    const key = newVerifyKey();
    const report = await shardReport(vdaf, 1, nonce);
    const tampered = report.leader.slice();
    tampered[0] = (tampered[0] as number) ^ 1;
    expect((await runReport(vdaf, { ...report, leader: tampered }, nonce, key)).valid).toBe(false);
    expect((await runReport(vdaf, report, await reportNonce('r-5', 'bbbbbbbbbbbbbbbb'), key)).valid).toBe(false);
    const leader = await prepareReport(vdaf, key, 0, nonce, report.publicShare, report.leader);
    const helper = await prepareReport(vdaf, newVerifyKey(), 1, nonce, report.publicShare, report.helper);
    expect(await verifyReport(vdaf, leader.prepShare, helper.prepShare, leader.jointRandSeed, helper.jointRandSeed)).toBe(false);
  });

  it('a public share that is not the device’s fails the joint-randomness check', async () => {
    const vdaf = vdafFor('counts', 4, 0);
    const nonce = await reportNonce('r-6', 'abcdefghijklmnop');
    const report = await shardReport(vdaf, 2, nonce);
    const pub = report.publicShare.slice();
    pub[20] = (pub[20] as number) ^ 1; // the helper's part
    expect((await runReport(vdaf, { ...report, publicShare: pub }, nonce, newVerifyKey())).valid).toBe(false);
  });

  it('malformed shares are refused before the library sees them', async () => {
    const vdaf = vdafFor('counts', 4, 0);
    const nonce = await reportNonce('r-7', 'abcdefghijklmnop');
    const report = await shardReport(vdaf, 0, nonce);
    await expect(prepareReport(vdaf, newVerifyKey(), 0, nonce, report.publicShare, report.leader.subarray(1))).rejects.toThrow(RangeError);
    const unreduced = report.leader.slice();
    unreduced.fill(0xff, 0, 16); // 2^128 − 1 ≥ p
    await expect(prepareReport(vdaf, newVerifyKey(), 0, nonce, report.publicShare, unreduced)).rejects.toThrow(/not reduced/);
  });
});

describe('report ids', () => {
  it('derive a 16-byte nonce per round and id', async () => {
    const a = await reportNonce('r-1', 'abcdefghijklmnop');
    expect(a.length).toBe(16);
    expect(a).toEqual(await reportNonce('r-1', 'abcdefghijklmnop'));
    expect(a).not.toEqual(await reportNonce('r-2', 'abcdefghijklmnop'));
  });

  it('derive a keyed group that spreads ids evenly', async () => {
    const key = newVerifyKey();
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 800; i++) {
      const g = await reportGroup(key, `id-${String(i).padStart(16, '0')}`, 8);
      counts[g] = (counts[g] as number) + 1;
    }
    // 800 ids into 8 groups: each count is Binomial(800, 1/8), mean 100, SD 9.4; 6 SD either side.
    for (const c of counts) expect(c).toBeGreaterThan(43);
    expect(Math.max(...counts)).toBeLessThan(157);
    expect(await reportGroup(key, 'abcdefghijklmnop', 8)).toBe(await reportGroup(key, 'abcdefghijklmnop', 8));
    expect(await reportGroup(key, 'abcdefghijklmnop', 1)).toBe(0);
  });

  it('derive each group with its own round key, however many rounds share the imported-key cache', async () => {
    // HMAC-SHA256(key, label ‖ id), first 4 bytes big-endian, mod groups: computed here with a fresh import each time.
    const plain = async (key: Uint8Array, id: string, groups: number) => {
      const hmac = await crypto.subtle.importKey('raw', key.slice(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new DataView(await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(`edgeseg/v3 group\0${id}`))).getUint32(0) % groups;
    };
    // More round keys than the cache keeps, visited twice (the second pass re-imports the evicted ones).
    const keys = Array.from({ length: 40 }, () => newVerifyKey());
    for (const pass of [0, 1]) {
      for (const [i, key] of keys.entries()) {
        const id = `pass${pass}-round${String(i).padStart(12, '0')}`;
        expect(await reportGroup(key, id, 1000)).toBe(await plain(key, id, 1000));
      }
    }
  });
});

describe('Field128 vectors', () => {
  it('round-trip, sum in place and read signed values', () => {
    const a = [1n, FIELD.modulus - 5n];
    expect(decodeFieldVector(encodeFieldVector(a))).toEqual(a);
    const acc = zeroFieldVector(2);
    addFieldInto(acc, a);
    addFieldInto(acc, [2n, 3n]);
    expect([...combineFieldShares(acc, [0n, 0n])]).toEqual([3, -2]);
    expect(() => decodeFieldVector(new Uint8Array(15))).toThrow(RangeError);
  });
});
