import { describe, expect, it } from 'vitest';
import { cryptoRandom, seededRandom } from '../random.ts';
import { RandomBits, randomBigBelow } from './bits.ts';

/** Upper 0.999 quantiles of χ² (house style, as in grr.test.ts). */
const CHI2_999: Record<number, number> = { 5: 20.52, 6: 22.46 };
/** 0.99999 quantile at 5 df, for live (crypto) sources that draw anew every run: a correct sampler fails 1 run in 100,000. */
const CHI2_5_99999 = 30.86;

function chiSquareUniform(counts: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const e = n / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

describe('RandomBits', () => {
  it('hands out the source’s words in order, whatever the batch size', () => {
    const direct = new Uint32Array(10);
    seededRandom(3)(direct);
    for (const batch of [1, 3, 256]) {
      const bits = new RandomBits(seededRandom(3), batch);
      expect(Array.from({ length: 10 }, () => bits.word())).toEqual(Array.from(direct));
    }
  });

  it('hands out bits least significant first, 32 per word, none reused', () => {
    const word = new Uint32Array(2);
    seededRandom(4)(word);
    const bits = new RandomBits(seededRandom(4), 1);
    let rebuilt = 0;
    for (let i = 0; i < 32; i++) rebuilt |= bits.bit() << i;
    expect(rebuilt >>> 0).toBe(word[0]);
    expect(bits.word()).toBe(word[1]);
  });

  it('below(n) is uniform (χ², 120,000 draws, seeded; 30,000 from crypto)', () => {
    for (const [random, n] of [[seededRandom(8), 120_000], [cryptoRandom, 30_000]] as const) {
      const bits = new RandomBits(random);
      const counts = new Array<number>(6).fill(0);
      for (let i = 0; i < n; i++) {
        const v = bits.below(6);
        counts[v] = (counts[v] as number) + 1;
      }
      expect(chiSquareUniform(counts)).toBeLessThan(random === cryptoRandom ? CHI2_5_99999 : (CHI2_999[5] as number));
    }
    const bits = new RandomBits(seededRandom(9));
    for (let i = 0; i < 1000; i++) expect(bits.below(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('bigBelow(n) is uniform on ranges beyond 2^53 (χ² of the residue mod 7, 70,000 draws)', () => {
    const n = 7n * 2n ** 61n; // every residue mod 7 equally likely under a uniform draw
    const bits = new RandomBits(seededRandom(10));
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const v = bits.bigBelow(n);
      expect(v >= 0n && v < n).toBe(true);
      const r = Number(v % 7n);
      counts[r] = (counts[r] as number) + 1;
    }
    expect(chiSquareUniform(counts)).toBeLessThan(CHI2_999[6] as number);
  });

  it('randomBigBelow uses crypto.getRandomValues by default and stays in range', () => {
    for (let i = 0; i < 200; i++) {
      const v = randomBigBelow(10n ** 30n);
      expect(v >= 0n && v < 10n ** 30n).toBe(true);
    }
    expect(randomBigBelow(1n)).toBe(0n);
    expect(() => randomBigBelow(0n)).toThrow(RangeError);
  });
});
