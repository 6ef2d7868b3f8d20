/**
 * Randomness for DP mechanisms. The product always draws from `crypto.getRandomValues`;
 * tests inject a seeded source to check distributions.
 */

/** Fills `out` with uniformly random 32-bit words. */
export type RandomSource = (out: Uint32Array) => void;

interface WebCryptoLike {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}
/** The platform's global `crypto` (this package has no DOM or Workers types). */
declare const crypto: WebCryptoLike;

/**
 * The platform CSPRNG (`crypto.getRandomValues`), available in browsers, Workers and Node ≥19.
 *
 * @example
 * const words = new Uint32Array(4); cryptoRandom(words);
 */
export const cryptoRandom: RandomSource = (out) => {
  // The global `crypto`, not `globalThis.crypto`: 2020 TV browsers (Chromium 68) have no globalThis.
  crypto.getRandomValues(out);
};

/**
 * A uniform integer in [0, n) for 1 ≤ n ≤ 2^32, by rejection sampling (no modulo bias).
 *
 * @example
 * randomBelow(6) // 0..5, each with probability exactly 1/6
 */
export function randomBelow(n: number, random: RandomSource = cryptoRandom): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`randomBelow: bad n ${n}`);
  const limit = 2 ** 32 - (2 ** 32 % n);
  const word = new Uint32Array(1);
  for (;;) {
    random(word);
    const w = word[0] as number;
    if (w < limit) return w % n;
  }
}

/**
 * A uniform 53-bit fraction in [0, 1): 2^-53 resolution, used only to compare against
 * a fixed probability (never to shape a distribution's tail).
 *
 * @example
 * randomFraction() < 0.25 // true with probability 0.25 (to within 2^-53)
 */
export function randomFraction(random: RandomSource = cryptoRandom): number {
  const words = new Uint32Array(2);
  random(words);
  const hi = (words[0] as number) >>> 5; // 27 bits
  const lo = (words[1] as number) >>> 6; // 26 bits
  return (hi * 2 ** 26 + lo) / 2 ** 53;
}

/**
 * A seeded, deterministic source (splitmix32) for reproducible tests and simulations.
 * Not a CSPRNG: never use it for a device's real randomness.
 *
 * @example
 * grrEncode(2, 4, 1, seededRandom(42)) // same answer on every run
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      out[i] = (z ^ (z >>> 16)) >>> 0;
    }
  };
}

/**
 * A standard normal draw (Box–Muller on two `randomFraction`s): for data-independent
 * starts, simulated devices and test inputs. Never for DP noise, whose tails must be exact
 * (that is `discreteGaussianSampler` in `@edgeseg/shared/dp`).
 *
 * @example
 * const z = standardNormal(seededRandom(1)); // same value on every run
 */
export function standardNormal(random: RandomSource = cryptoRandom): number {
  // 1 − u keeps the logarithm's argument in (0, 1]: never ln 0.
  const u = 1 - randomFraction(random);
  const v = randomFraction(random);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
