import { FIELD, fieldFromSigned } from '@edgeseg/shared/secure';
import { describe, expect, it } from 'vitest';
import { addToBucket, bucketIn, emptyBucket, idDigest, mergeBucket } from './bucket.ts';

describe('field buckets', () => {
  it('sums output shares mod p, counts them, and XORs their id digests', async () => {
    const b = emptyBucket(2);
    addToBucket(b, [FIELD.modulus - 1n, 5n], await idDigest('a'));
    addToBucket(b, [3n, fieldFromSigned(-7)], await idDigest('b'));
    expect(b.sums).toEqual([2n, FIELD.modulus - 2n]);
    expect(b.count).toBe(2);
    const again = emptyBucket(2);
    addToBucket(again, [0n, 0n], await idDigest('b'));
    addToBucket(again, [0n, 0n], await idDigest('a'));
    expect(again.checksum).toEqual(b.checksum); // order-independent
  });

  it('merges shards into one total, and gets or adds a bucket by key', async () => {
    const buckets = new Map();
    const first = bucketIn(buckets, '0:1', 2);
    addToBucket(first, [1n, 2n], await idDigest('x'));
    expect(bucketIn(buckets, '0:1', 2)).toBe(first);
    const other = emptyBucket(2);
    addToBucket(other, [FIELD.modulus - 1n, 1n], await idDigest('y'));
    mergeBucket(first, other);
    expect(first.sums).toEqual([0n, 3n]);
    expect(first.count).toBe(2);
    expect(() => addToBucket(first, [1n], new Uint8Array(32))).toThrow(RangeError);
  });
});
