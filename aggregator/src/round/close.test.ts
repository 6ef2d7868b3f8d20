import { FIELD, fieldFromSigned, SUMVEC_OFFSET } from '@edgeseg/shared/secure';
import { describe, expect, it } from 'vitest';
import { addToBucket, emptyBucket, idDigest, type Bucket } from './bucket.ts';
import { agreeOnBatch, RetryCloseLater, selectorOf, type BatchSelector, type CloseDeps, type HelperAggregate } from './close.ts';
import type { RoundRecord } from './record.ts';

const LENGTH = 3;
const MIN_BATCH = 4;
const CLOSES_AT = 1_900_000_000;

function record(mode: 'secure' | 'local' = 'secure', kind: 'counts' | 'kmeans' = 'counts'): RoundRecord {
  return {
    descriptor: {
      round_id: 'r-1', kind, mode, model_version: 3, k: 2, d: 0, slices: [[[], []]], groups: 2,
      encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
      epsilon: 1, delta: 1e-9, opens_at: CLOSES_AT - 3600, closes_at: CLOSES_AT, min_batch: MIN_BATCH,
      hpke: { leader: { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'x' } },
    },
    shards: 1, sigma2: '9/1', verify_key: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'closing', opened_at: 0, closed_at: null, contributions: null, reason: null, result: null,
  };
}

/** A field vector of LENGTH entries, each the signed `value`. */
function filled(value: number): bigint[] {
  return new Array<bigint>(LENGTH).fill(fieldFromSigned(value));
}

/** A bucket of `n` contributions, each adding `value` to every entry. */
async function bucket(n: number, value: number, prefix: string): Promise<Bucket> {
  const b = emptyBucket(LENGTH);
  for (let i = 0; i < n; i++) addToBucket(b, filled(value), await idDigest(`${prefix}-${i}`));
  return b;
}

/** The leader's buckets: 0:0 with 5 contributions (released), 0:1 with 2 (under the minimum batch). */
async function leaderBuckets(): Promise<Map<string, Bucket>> {
  return new Map([
    ['0:0', await bucket(5, 1, 'a')],
    ['0:1', await bucket(2, 1, 'b')],
  ]);
}

function deps(buckets: Map<string, Bucket>, helper: (selector: BatchSelector) => HelperAggregate): Omit<CloseDeps, 'publish'> & { asked: BatchSelector[]; noised: string[] } {
  const asked: BatchSelector[] = [];
  const noised: string[] = [];
  return {
    asked,
    noised,
    gather: async () => buckets,
    helperAggregate: async (selector) => {
      asked.push(selector);
      return helper(selector);
    },
    noisy: async (key, sums) => {
      noised.push(key);
      return sums;
    },
  };
}

describe('agreeOnBatch', () => {
  it('sends the whole batch, releases only buckets of at least min_batch that the helper released, with the helper’s counts', async () => {
    const buckets = await leaderBuckets();
    const d = deps(buckets, () => ({ ok: true, shares: { '0:0': filled(10) }, counts: { '0:0': 5 }, withheld: { '0:1': 'under the minimum batch' }, sigma2: '16/1' }));
    const batch = await agreeOnBatch(record(), d);
    if (!batch.ok) throw new Error(batch.reason);
    expect(d.asked).toEqual([selectorOf(buckets)]);
    expect(d.noised).toEqual(['0:0']); // no noise drawn for a bucket that is not released
    expect(batch.buckets).toEqual({ '0:0': 5 });
    expect(batch.contributions).toBe(5);
    expect([...(batch.combined.get('0:0') ?? [])]).toEqual([15, 15, 15]);
    expect(batch.combined.has('0:1')).toBe(false);
    expect(batch.helperSigma2).toBe('16/1');
  });

  it('ignores a share the helper sends for a bucket under the minimum batch', async () => {
    const d = deps(await leaderBuckets(), () => ({
      ok: true,
      shares: { '0:0': filled(0), '0:1': filled(0) },
      counts: { '0:0': 5, '0:1': 2 },
      withheld: {},
      sigma2: '9/1',
    }));
    const batch = await agreeOnBatch(record(), d);
    if (!batch.ok) throw new Error(batch.reason);
    expect(Object.keys(batch.buckets)).toEqual(['0:0']);
  });

  it('abandons without asking the helper when no bucket reaches min_batch', async () => {
    const d = deps(new Map([['0:0', await bucket(3, 1, 'c')], ['0:1', await bucket(2, 1, 'd')]]), () => {
      throw new Error('not asked');
    });
    const batch = await agreeOnBatch(record(), d);
    expect(batch).toEqual({ ok: false, contributions: 5, reason: `5 contributions, no bucket reached the minimum batch of ${MIN_BATCH} (largest 3)` });
    expect(d.asked).toEqual([]);
  });

  it('refuses when the helper’s count of a released bucket differs from the leader’s', async () => {
    const d = deps(await leaderBuckets(), () => ({ ok: true, shares: { '0:0': filled(0) }, counts: { '0:0': 6 }, withheld: {}, sigma2: '9/1' }));
    const batch = await agreeOnBatch(record(), d);
    if (batch.ok) throw new Error('released');
    expect(batch.reason).toMatch(/helper counted 6 .* bucket 0:0, the leader 5/);
  });

  it('abandons when the helper withheld every bucket the leader would release', async () => {
    const d = deps(await leaderBuckets(), () => ({ ok: true, shares: {}, counts: {}, withheld: { '0:0': 'opened 3 of them' }, sigma2: '9/1' }));
    const batch = await agreeOnBatch(record(), d);
    if (batch.ok) throw new Error('released');
    expect(batch.reason).toBe('the helper released no bucket (0:0: opened 3 of them)');
  });

  it('retries batch-mismatch and too-early by rule (too-early not before the close time), whatever the prose', async () => {
    for (const [rule, notBefore] of [['batch-mismatch', null], ['too-early', CLOSES_AT]] as const) {
      const d = deps(await leaderBuckets(), () => ({ ok: false, rule, reason: 'prose that matches nothing' }));
      const err = await agreeOnBatch(record(), d).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryCloseLater);
      expect((err as RetryCloseLater).rule).toBe(rule);
      expect((err as RetryCloseLater).notBefore).toBe(notBefore);
    }
  });

  it('abandons on any other refusal, even one whose prose speaks of a batch mismatch', async () => {
    const d = deps(await leaderBuckets(), () => ({ ok: false, rule: 'already-released', reason: 'batch mismatch' }));
    const batch = await agreeOnBatch(record(), d);
    expect(batch).toEqual({ ok: false, contributions: 7, reason: 'helper refused to release (already-released): batch mismatch' });
  });

  it('in local mode releases the leader’s buckets of at least min_batch without a helper', async () => {
    const d = deps(await leaderBuckets(), () => {
      throw new Error('no helper in local mode');
    });
    const batch = await agreeOnBatch(record('local'), d);
    if (!batch.ok) throw new Error(batch.reason);
    expect(batch.buckets).toEqual({ '0:0': 5 });
    expect([...(batch.combined.get('0:0') ?? [])]).toEqual([5, 5, 5]);
    expect(d.noised).toEqual([]);
    expect(batch.helperSigma2).toBeNull();
  });

  it('sums the two field shares mod p into signed totals (a negative share wraps around p)', async () => {
    const d = deps(await leaderBuckets(), () => ({ ok: true, shares: { '0:0': filled(-12) }, counts: { '0:0': 5 }, withheld: {}, sigma2: '9/1' }));
    const batch = await agreeOnBatch(record(), d);
    if (!batch.ok) throw new Error(batch.reason);
    expect([...(batch.combined.get('0:0') ?? [])]).toEqual([-7, -7, -7]);
    expect(filled(-12)[0]).toBe(FIELD.modulus - 12n);
  });

  it('takes the SumVec offset × count off every entry of a k-means bucket (secure mode only)', async () => {
    // Five reports of signed entry 3 each, sent as 3 + offset: the leader's share is all of it here, the helper's 0.
    const buckets = new Map([['0:0', await bucket(5, 3 + SUMVEC_OFFSET, 'k')]]);
    const batch = await agreeOnBatch(record('secure', 'kmeans'), deps(buckets, () => ({ ok: true, shares: { '0:0': filled(0) }, counts: { '0:0': 5 }, withheld: {}, sigma2: '9/1' })));
    if (!batch.ok) throw new Error(batch.reason);
    expect([...(batch.combined.get('0:0') ?? [])]).toEqual([15, 15, 15]);
    const local = await agreeOnBatch(record('local', 'kmeans'), deps(new Map([['0:0', await bucket(5, -3, 'l')]]), () => {
      throw new Error('no helper in local mode');
    }));
    if (!local.ok) throw new Error(local.reason);
    expect([...(local.combined.get('0:0') ?? [])]).toEqual([-15, -15, -15]);
  });

  it('abandons when the helper’s share has another length than the leader’s sums', async () => {
    const d = deps(await leaderBuckets(), () => ({ ok: true, shares: { '0:0': [0n] }, counts: { '0:0': 5 }, withheld: {}, sigma2: '9/1' }));
    const batch = await agreeOnBatch(record(), d);
    if (batch.ok) throw new Error('released');
    expect(batch.reason).toMatch(/share of bucket 0:0 has 1 entries, the leader's 3/);
  });
});
