/**
 * A bucket sums the shares of one (slice, group) and keeps what both aggregators must
 * agree on before either releases anything: the number of contributions and an
 * order-independent checksum of their ids (XOR of SHA-256), as DAP's aggregate-share
 * requests do.
 */

/** Running state of one bucket on one aggregator. */
export interface Bucket {
  count: number;
  /** XOR of SHA-256(id) over every summed id, hex. */
  checksum: string;
  /** Sum of shares mod 2^32. */
  sums: Uint32Array;
}

/**
 * An empty bucket for vectors of `length` entries.
 *
 * @example
 * const b = emptyBucket(272);
 */
export function emptyBucket(length: number): Bucket {
  return { count: 0, checksum: '0'.repeat(64), sums: new Uint32Array(length) };
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
 * XORs a digest into a hex checksum.
 *
 * @example
 * xorChecksum('00'.repeat(32), await idDigest('a'))
 */
export function xorChecksum(checksumHex: string, digest: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 32; i++) out += ((parseInt(checksumHex.slice(i * 2, i * 2 + 2), 16) ^ (digest[i] as number)) & 0xff).toString(16).padStart(2, '0');
  return out;
}

/**
 * Adds one share (and its id digest) to a bucket, mod 2^32, in place.
 *
 * @example
 * addToBucket(bucket, share, await idDigest(id));
 */
export function addToBucket(bucket: Bucket, share: Uint32Array, digest: Uint8Array): void {
  const sums = bucket.sums;
  for (let i = 0; i < sums.length; i++) sums[i] = ((sums[i] as number) + (share[i] as number)) >>> 0;
  bucket.count += 1;
  bucket.checksum = xorChecksum(bucket.checksum, digest);
}

/**
 * Merges bucket `b` into `a` (shards of one aggregator → its round total).
 *
 * @example
 * mergeBucket(total, shardBucket);
 */
export function mergeBucket(a: Bucket, b: Bucket): void {
  for (let i = 0; i < a.sums.length; i++) a.sums[i] = ((a.sums[i] as number) + (b.sums[i] as number)) >>> 0;
  a.count += b.count;
  let x = a.checksum;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(b.checksum.slice(i * 2, i * 2 + 2), 16);
  x = xorChecksum(x, bytes);
  a.checksum = x;
}
