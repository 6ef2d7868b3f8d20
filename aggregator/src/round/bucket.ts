/**
 * A bucket sums the output shares of one (slice, group) in Prio3's Field128 and keeps
 * what both aggregators must agree on before either releases anything: the number of
 * verified reports and an order-independent checksum of their ids (XOR of SHA-256), as
 * DAP's aggregate-share requests do.
 */
import { addFieldInto, zeroFieldVector } from '@edgeseg/shared/secure';

/** Running state of one bucket on one aggregator. */
export interface Bucket {
  count: number;
  /** XOR of SHA-256(id) over every summed id (32 bytes; hex only on the wire). */
  checksum: Uint8Array;
  /** Sum of output shares in Field128 (each entry in [0, p)). */
  sums: bigint[];
}

/**
 * An empty bucket for vectors of `length` entries.
 *
 * @example
 * const b = emptyBucket(272);
 */
export function emptyBucket(length: number): Bucket {
  return { count: 0, checksum: new Uint8Array(32), sums: zeroFieldVector(length) };
}

/**
 * The bucket under `key` in `buckets`, added empty (for vectors of `length` entries) if
 * there is none yet.
 *
 * @example
 * addToBucket(bucketIn(buckets, bucketKey(slice, group), 272), share, digest);
 */
export function bucketIn(buckets: Map<string, Bucket>, key: string, length: number): Bucket {
  let b = buckets.get(key);
  if (!b) buckets.set(key, (b = emptyBucket(length)));
  return b;
}

/**
 * SHA-256 of an id, as bytes.
 *
 * @example
 * const digest = await idDigest('q3v0X1lq0VbQm7x4Zk2l8A');
 */
export async function idDigest(id: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)));
}

/**
 * XORs a digest into a checksum, in place (bytes, not hex: this runs once per contribution).
 *
 * @example
 * xorInto(bucket.checksum, await idDigest('a'));
 */
export function xorInto(checksum: Uint8Array, digest: Uint8Array): void {
  for (let i = 0; i < 32; i++) checksum[i] = (checksum[i] as number) ^ (digest[i] as number);
}

/**
 * A checksum as lowercase hex, for the batch selector on the wire.
 *
 * @example
 * checksumHex(bucket.checksum) // '3f…'
 */
export function checksumHex(checksum: Uint8Array): string {
  let out = '';
  for (const b of checksum) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * Adds one output share (and its id digest) to a bucket, in the field, in place.
 *
 * @example
 * addToBucket(bucket, outputShare, await idDigest(id));
 */
export function addToBucket(bucket: Bucket, share: readonly bigint[], digest: Uint8Array): void {
  addFieldInto(bucket.sums, share);
  bucket.count += 1;
  xorInto(bucket.checksum, digest);
}

/**
 * Merges bucket `b` into `a` (shards of one aggregator → its round total).
 *
 * @example
 * mergeBucket(total, shardBucket);
 */
export function mergeBucket(a: Bucket, b: Bucket): void {
  addFieldInto(a.sums, b.sums);
  a.count += b.count;
  xorInto(a.checksum, b.checksum);
}
