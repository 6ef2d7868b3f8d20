import { seededRandom } from '@edgeseg/shared';
import { addDiscreteGaussianNoise, rational } from '@edgeseg/shared/dp';
import { addFieldNoise, encodeCountContribution, fieldFromSigned, measurementOf, newVerifyKey, prepareReport, reportNonce, shardReport, vdafFor, verifyReport } from '@edgeseg/shared/secure';
import { describe, expect, it } from 'vitest';
import { addToBucket, emptyBucket, idDigest, type Bucket } from './bucket.ts';
import { closeCountsRound } from './close-counts.ts';
import { selectorOf } from './close.ts';
import { countNoiseVariance, type RoundRecord } from './record.ts';

const K = 4;
const SIGMA2 = '9/1';

function record(overrides: Partial<RoundRecord> = {}, mode: 'secure' | 'local' = 'secure'): RoundRecord {
  return {
    descriptor: {
      round_id: 'c-2026-W47-v3', kind: 'counts', mode, model_version: 3, k: K, d: 0, slices: [[[], [], [], []]], groups: 1,
      encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
      epsilon: 1, delta: 1e-9, opens_at: 0, closes_at: 0, min_batch: 50, period: '2026-W47', hpke: { leader: { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'x' } },
    },
    shards: 1, sigma2: SIGMA2, verify_key: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'closing', opened_at: 0, closed_at: null, contributions: null, reason: null, result: null,
    counts: { k_threshold: 20, labels: ['a', 'b', 'c', 'd'] },
    ...overrides,
  };
}

/**
 * Both aggregators' buckets for devices with these segments (null: no segment), as the
 * real path builds them: each device shards a Prio3 histogram report, each aggregator
 * prepares its input share, the proof is checked, and each sums its output share.
 */
async function shares(segments: (number | null)[]): Promise<{ leader: Bucket; helper: Bucket }> {
  const random = seededRandom(7);
  const vdaf = vdafFor('counts', K, 0);
  const verifyKey = newVerifyKey(random);
  const leader = emptyBucket(K + 1);
  const helper = emptyBucket(K + 1);
  for (const [i, segment] of segments.entries()) {
    const id = `device-${String(i).padStart(12, '0')}`;
    const nonce = await reportNonce('c-2026-W47-v3', id);
    const report = await shardReport(vdaf, measurementOf('counts', encodeCountContribution(segment, K, 1)), nonce, random);
    const l = await prepareReport(vdaf, verifyKey, 0, nonce, report.publicShare, report.leader);
    const h = await prepareReport(vdaf, verifyKey, 1, nonce, report.publicShare, report.helper);
    if (!(await verifyReport(vdaf, l.prepShare, h.prepShare, l.jointRandSeed, h.jointRandSeed))) throw new Error(`report ${i} did not verify`);
    const digest = await idDigest(id);
    addToBucket(leader, l.outputShare, digest);
    addToBucket(helper, h.outputShare, digest);
  }
  return { leader, helper };
}

describe('closeCountsRound', () => {
  const truth = [300, 120, 40, 0];
  const segments = truth.flatMap((n, s) => Array.from({ length: n }, () => s as number | null)).concat([null, null]);

  it('releases each segment count within the noise of both aggregators, with that noise in the interval', async () => {
    const { leader, helper } = await shares(segments);
    const noisy = (sums: bigint[]) => addFieldNoise([...sums], rational(9), seededRandom(11));
    let askedWith: unknown;
    const outcome = await closeCountsRound(record(), {
      gather: async () => new Map([['0:0', leader]]),
      helperAggregate: async (selector) => {
        askedWith = selector;
        return { ok: true, shares: { '0:0': noisy(helper.sums) }, counts: { '0:0': helper.count }, withheld: {}, sigma2: SIGMA2 };
      },
      noisy: async (_key, sums) => noisy(sums),
    }, { kThreshold: 20, labels: ['a', 'b', 'c', 'd'] });

    expect(askedWith).toEqual(selectorOf(new Map([['0:0', leader]])));
    if (outcome.state !== 'released') throw new Error(outcome.reason);
    expect(outcome.contributions).toBe(segments.length);
    expect(outcome.buckets).toEqual({ '0:0': segments.length });
    expect(outcome.helperSigma2).toBe(SIGMA2);
    const { summary } = outcome;
    expect(summary.mechanism).toBe('secure-counts');
    expect(summary.reports).toBe(segments.length);
    // σ² = 9 on each side: 6σ of the summed noise is 6·√18 ≈ 25.
    for (const s of [0, 1, 2]) expect(Math.abs((summary.segments[s]?.count as number) - (truth[s] as number))).toBeLessThanOrEqual(26);
    const half = 1.959964 * Math.sqrt(countNoiseVariance(record(), segments.length, 1));
    const first = summary.segments[0];
    expect(first?.ci95).toEqual([Math.round((first?.count as number) - half), Math.round((first?.count as number) + half)]);
    expect(summary.segments[3]).toEqual({ segment: 3, label: 'd', count: null, ci95: null, suppressed: true });
  });

  it('abandons a batch under the minimum without asking the helper', async () => {
    const { leader } = await shares([0, 1, 2]);
    let asked = false;
    const outcome = await closeCountsRound(record(), {
      gather: async () => new Map([['0:0', leader]]),
      helperAggregate: async () => {
        asked = true;
        return { ok: false, rule: 'unused', reason: 'unused' };
      },
      noisy: async (_key, sums) => sums,
    }, { kThreshold: 20, labels: [] });
    expect(outcome).toEqual({ state: 'abandoned', contributions: 3, reason: '3 contributions, no bucket reached the minimum batch of 50 (largest 3)' });
    expect(asked).toBe(false);
  });

  it('abandons when the helper refuses for good, releasing nothing and naming the rule', async () => {
    const { leader } = await shares(segments);
    const outcome = await closeCountsRound(record(), {
      gather: async () => new Map([['0:0', leader]]),
      helperAggregate: async () => ({ ok: false, rule: 'already-released', reason: 'a release was made for another batch' }),
      noisy: async (_key, sums) => sums,
    }, { kThreshold: 20, labels: [] });
    if (outcome.state !== 'abandoned') throw new Error('released');
    expect(outcome.reason).toMatch(/^helper refused to release \(already-released\)/);
    expect('summary' in outcome).toBe(false);
  });

  it('in local mode sums the devices’ noised vectors without a helper, and widens the interval to n·σ²', async () => {
    const random = seededRandom(3);
    const bucket = emptyBucket(K + 1);
    for (const [i, segment] of segments.entries()) {
      const v = addDiscreteGaussianNoise(new Uint32Array(encodeCountContribution(segment, K, 1).buffer), rational(9), random);
      // The device's noised int32 vector, stored by the leader as field elements.
      addToBucket(bucket, [...new Int32Array(v.buffer)].map(fieldFromSigned), await idDigest(`local-${String(i).padStart(12, '0')}`));
    }
    const outcome = await closeCountsRound(record({}, 'local'), {
      gather: async () => new Map([['0:0', bucket]]),
      helperAggregate: async () => {
        throw new Error('local mode has no helper');
      },
      noisy: async () => {
        throw new Error('local mode: the server adds no noise');
      },
    }, { kThreshold: 20, labels: ['a', 'b', 'c', 'd'] });
    if (outcome.state !== 'released') throw new Error(outcome.reason);
    const variance = countNoiseVariance(record({}, 'local'), segments.length, 1);
    expect(variance).toBe(segments.length * 9);
    // 6σ of n·σ² ≈ 6·√4158 ≈ 387: loose, as local mode is.
    expect(Math.abs((outcome.summary.segments[0]?.count as number) - 300)).toBeLessThanOrEqual(387);
  });
});

