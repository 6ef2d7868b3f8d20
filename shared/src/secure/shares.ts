/**
 * Additive secret sharing mod 2^32 with a seed-compressed helper share (DESIGN.md §5).
 *
 * A device draws a 16-byte seed; the helper's share is `expandSeed(seed, L)` and the
 * leader's share is `vector − helperShare mod 2^32`, so the helper's ciphertext is 32
 * bytes whatever L is. Each share alone is uniform on (Z/2^32)^L; their sum mod 2^32 is
 * the vector.
 *
 * Wire format of the seed expansion (both aggregators and every device must agree):
 * the keystream of AES-128-CTR with key = the 16 seed bytes and initial counter block =
 * 16 zero bytes, the whole low 64 bits as the big-endian block counter (WebCrypto
 * `{ name: 'AES-CTR', counter: 0^16, length: 64 }`), i.e. block j = AES_seed(0^8 ‖ BE64(j)).
 * Helper-share word i is keystream bytes [4i, 4i + 4) read as a little-endian uint32.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';
import { uint32ToBytesLE, wordsFromBufferLE } from './bytes.ts';
import { subtle } from './webcrypto.ts';

/** Bytes of a helper seed (an AES-128 key). */
export const SEED_BYTES = 16;

/** Longest vector a seed may expand to (2^24 words = 64 MiB of keystream). */
export const MAX_EXPANDED_WORDS = 2 ** 24;

/**
 * The helper's share of length `length` from a 16-byte seed: the AES-128-CTR keystream
 * (zero counter block, 64-bit counter) read as little-endian uint32 words. Deterministic.
 *
 * @example
 * const helperShare = await expandSeed(seed, vectorLength('kmeans', round.k, round.d));
 */
export async function expandSeed(seed: Uint8Array, length: number): Promise<Uint32Array<ArrayBuffer>> {
  if (seed.length !== SEED_BYTES) throw new RangeError(`expandSeed: seed of ${seed.length} bytes, expected ${SEED_BYTES}`);
  if (!Number.isInteger(length) || length < 0 || length > MAX_EXPANDED_WORDS) throw new RangeError(`expandSeed: bad length ${length}`);
  const api = subtle();
  const key = await api.importKey('raw', seed.slice(), { name: 'AES-CTR' }, false, ['encrypt']);
  const keystream = await api.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(4 * length));
  return wordsFromBufferLE(keystream, length);
}

/**
 * Splits `vector` into two additive shares mod 2^32: a fresh 16-byte seed for the helper
 * (drawn from `random`, which must be the CSPRNG outside tests) and the leader's explicit
 * share `vector − expandSeed(seed) mod 2^32`. Int32 entries are read as their two's
 * complement, so `combineShares` gives back the signed values.
 *
 * @example
 * const { leader, helperSeed } = await splitWithSeed(vector);
 */
export async function splitWithSeed(
  vector: Int32Array | Uint32Array,
  random: RandomSource = cryptoRandom,
): Promise<{ leader: Uint32Array<ArrayBuffer>; helperSeed: Uint8Array<ArrayBuffer> }> {
  const seedWords = new Uint32Array(SEED_BYTES / 4);
  random(seedWords);
  const helperSeed = uint32ToBytesLE(seedWords);
  const share = await expandSeed(helperSeed, vector.length);
  // In place: the expanded helper share becomes the leader's share (a Uint32Array store
  // reduces the exact double difference mod 2^32).
  for (let i = 0; i < share.length; i++) share[i] = (vector[i] as number) - (share[i] as number);
  return { leader: share, helperSeed };
}

/**
 * Adds `share` into `acc` mod 2^32, in place, without allocating: the aggregators' hot loop.
 *
 * @example
 * addInto(bucketSums, bytesToUint32LE(plaintext));
 */
export function addInto(acc: Uint32Array, share: Uint32Array): void {
  const n = acc.length;
  if (share.length !== n) throw new RangeError(`addInto: share of ${share.length} entries, accumulator of ${n}`);
  for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (share[i] as number);
}

/**
 * The sum of two shares mod 2^32 read as signed int32: the aggregate (or one vector)
 * back from the leader's and helper's parts. Writes into `out` when given (no allocation).
 *
 * @example
 * const sums = combineShares(leaderAggregate, helperAggregate); // Int32Array
 */
export function combineShares(a: Uint32Array, b: Uint32Array, out: Int32Array = new Int32Array(a.length)): Int32Array {
  const n = a.length;
  if (b.length !== n || out.length !== n) throw new RangeError(`combineShares: lengths ${n}, ${b.length} and ${out.length} differ`);
  for (let i = 0; i < n; i++) out[i] = (a[i] as number) + (b[i] as number);
  return out;
}
