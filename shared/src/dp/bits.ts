/**
 * Uniform random integers for the exact samplers, drawn from a `RandomSource` in batches.
 * A discrete Gaussian sample consumes a few dozen random bits in small pieces; asking
 * `crypto.getRandomValues` for one word at a time would cost more than the arithmetic, so
 * the words are fetched a batch at a time and handed out as whole words or single bits.
 */
import { cryptoRandom, type RandomSource } from '../random.ts';

const TWO_32 = 2 ** 32;

/**
 * A buffered reader of random words and bits over a `RandomSource`. Every value it hands
 * out is a fresh, unused piece of the source's output, so the result is exactly as random
 * as the source; batching only changes how many words are requested per call.
 *
 * @example
 * const bits = new RandomBits(cryptoRandom);
 * bits.below(6) // uniform in 0..5
 */
export class RandomBits {
  readonly #source: RandomSource;
  readonly #buffer: Uint32Array;
  #next: number;
  #bits = 0;
  #bitCount = 0;

  /** `batch` words are requested from `source` whenever the buffer runs dry. */
  constructor(source: RandomSource = cryptoRandom, batch = 256) {
    if (!Number.isInteger(batch) || batch < 1 || batch > 16_384) throw new RangeError(`RandomBits: bad batch ${batch}`);
    this.#source = source;
    this.#buffer = new Uint32Array(batch);
    this.#next = batch;
  }

  /** A uniform 32-bit word. */
  word(): number {
    if (this.#next === this.#buffer.length) {
      this.#source(this.#buffer);
      this.#next = 0;
    }
    return this.#buffer[this.#next++] as number;
  }

  /** A uniform bit (0 or 1); 32 of them per word. */
  bit(): number {
    if (this.#bitCount === 0) {
      this.#bits = this.word();
      this.#bitCount = 32;
    }
    const b = this.#bits & 1;
    this.#bits >>>= 1;
    this.#bitCount--;
    return b;
  }

  /** A uniform integer in [0, n) for 1 ≤ n ≤ 2^32, by rejection (no modulo bias). */
  below(n: number): number {
    // Words at or above the largest multiple of n are rejected: each residue then has
    // exactly ⌊2^32/n⌋ preimages. Fewer than half the words are ever rejected.
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const w = this.word();
      if (w < limit) return w % n;
    }
  }

  /** A uniform BigInt in [0, n) for n ≥ 1, by rejection on ⌈log2 n⌉ random bits. */
  bigBelow(n: bigint): bigint {
    if (n < 1n) throw new RangeError(`bigBelow: bad n ${n}`);
    if (n === 1n) return 0n;
    const bitLength = (n - 1n).toString(2).length;
    const words = Math.ceil(bitLength / 32);
    const mask = (1n << BigInt(bitLength)) - 1n;
    // Masking to the bit length of n − 1 keeps the acceptance probability above 1/2.
    for (;;) {
      let v = 0n;
      for (let i = 0; i < words; i++) v = (v << 32n) | BigInt(this.word());
      v &= mask;
      if (v < n) return v;
    }
  }
}

/**
 * A uniform BigInt in [0, n) for any n ≥ 1 (the BigInt counterpart of `randomBelow`).
 *
 * @example
 * randomBigBelow(10n ** 30n) // 0 ≤ x < 10^30, each value equally likely
 */
export function randomBigBelow(n: bigint, random: RandomSource = cryptoRandom): bigint {
  if (n < 1n) throw new RangeError(`randomBigBelow: bad n ${n}`);
  // One-shot: a buffer exactly as large as one attempt needs, so no random words are wasted.
  return new RandomBits(random, Math.max(1, Math.ceil((n - 1n).toString(2).length / 32))).bigBelow(n);
}
