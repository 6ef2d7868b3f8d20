import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { uint32ToBytesLE } from './bytes.ts';
import { addInto, combineShares, expandSeed, splitWithSeed } from './shares.ts';

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('expandSeed (wire format: AES-128-CTR keystream, zero counter block, little-endian uint32)', () => {
  it('matches published AES-128 values for the all-zero seed', async () => {
    // AES_0(0^128), AES_0(0^120‖01), AES_0(0^120‖02): the H, E(K, Y0) and test case 2 keystream of the GCM spec.
    const words = await expandSeed(new Uint8Array(16), 12);
    expect(toHex(uint32ToBytesLE(words))).toBe('66e94bd4ef8a2c3b884cfa59ca342b2e' + '58e2fccefa7e3061367f1d57a4e7455a' + '0388dace60b6a392f328c2b971b2fe78');
    expect(words[0]).toBe(0xd44be966); // bytes 66 e9 4b d4 read little-endian
  });

  it('matches a pinned known answer (seed 00 01 … 0f), so a change of byte order or counter is caught', async () => {
    const words = await expandSeed(hex('000102030405060708090a0b0c0d0e0f'), 8);
    expect(Array.from(words)).toEqual([0x373ba1c6, 0x825b8f87, 0x62814f6f, 0x79d8c8a1, 0x95134673, 0x1eb4c095, 0xe3bd7b49, 0x0a2df465]);
  });

  it('agrees with node:crypto aes-128-ctr over many blocks and is deterministic', async () => {
    const seed = hex('8f1e2d3c4b5a69788796a5b4c3d2e1f0');
    const a = await expandSeed(seed, 1001);
    const b = await expandSeed(seed, 1001);
    expect(a).toEqual(b);
    const cipher = createCipheriv('aes-128-ctr', seed, new Uint8Array(16));
    const ks = Buffer.concat([cipher.update(new Uint8Array(4 * 1001)), cipher.final()]);
    expect(toHex(uint32ToBytesLE(a))).toBe(ks.toString('hex'));
    // A prefix of a longer expansion is the shorter expansion.
    expect(Array.from(await expandSeed(seed, 5))).toEqual(Array.from(a.subarray(0, 5)));
  });

  it('handles length 0 and refuses a bad seed or length', async () => {
    expect((await expandSeed(new Uint8Array(16), 0)).length).toBe(0);
    await expect(expandSeed(new Uint8Array(15), 4)).rejects.toThrow(RangeError);
    await expect(expandSeed(new Uint8Array(16), -1)).rejects.toThrow(RangeError);
    await expect(expandSeed(new Uint8Array(16), 1.5)).rejects.toThrow(RangeError);
  });
});

describe('splitWithSeed / combineShares', () => {
  it('shares of random vectors recombine exactly, extremes included', async () => {
    const rnd = seededRandom(7);
    for (let t = 0; t < 50; t++) {
      const v = new Int32Array(1 + t * 7);
      rnd(new Uint32Array(v.buffer));
      v[0] = t % 2 ? -(2 ** 31) : 2 ** 31 - 1;
      const { leader, helperSeed } = await splitWithSeed(v, rnd);
      expect(helperSeed.length).toBe(16);
      expect(leader.length).toBe(v.length);
      expect(combineShares(leader, await expandSeed(helperSeed, v.length))).toEqual(v);
    }
  });

  it('accepts a Uint32Array vector (read mod 2^32)', async () => {
    const v = Uint32Array.from([0, 1, 0xffffffff, 0x80000000]);
    const { leader, helperSeed } = await splitWithSeed(v, seededRandom(1));
    expect(Array.from(combineShares(leader, await expandSeed(helperSeed, 4)))).toEqual([0, 1, -1, -(2 ** 31)]);
  });

  it('a leader share alone is uniform: χ² of its top byte over many seeds', async () => {
    const fixed = Int32Array.from([0, 1, -1, 123456, 2 ** 31 - 1, -(2 ** 31), 42, 7]);
    const rnd = seededRandom(2026);
    const bins = new Float64Array(256);
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      const { leader } = await splitWithSeed(fixed, rnd);
      for (const w of leader) bins[w >>> 24]! += 1;
    }
    const expected = (trials * fixed.length) / 256;
    const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: mean 255, sd 22.6; 360 is the 0.9999 quantile.
    expect(chi2).toBeLessThan(360);
    expect(chi2).toBeGreaterThan(170); // and not suspiciously regular
  });

  it('different seeds give different leader shares of the same vector', async () => {
    const v = new Int32Array(16);
    const a = await splitWithSeed(v, seededRandom(1));
    const b = await splitWithSeed(v, seededRandom(2));
    expect(a.leader).not.toEqual(b.leader);
    expect(a.helperSeed).not.toEqual(b.helperSeed);
  });
});

describe('addInto / combineShares', () => {
  it('adds mod 2^32 in place and reads the sum as int32', () => {
    const acc = Uint32Array.from([0xffffffff, 5, 0x7fffffff]);
    addInto(acc, Uint32Array.from([2, 0xfffffffe, 1]));
    expect(Array.from(acc)).toEqual([1, 3, 0x80000000]);
    const out = new Int32Array(3);
    expect(combineShares(acc, Uint32Array.from([0, 0xfffffffc, 0]), out)).toBe(out);
    expect(Array.from(out)).toEqual([1, -1, -(2 ** 31)]);
  });

  it('sums of many shares equal the sum of the vectors', async () => {
    const rnd = seededRandom(3);
    const n = 200;
    const L = 30;
    const leaderAcc = new Uint32Array(L);
    const helperAcc = new Uint32Array(L);
    const truth = new Float64Array(L);
    for (let i = 0; i < n; i++) {
      const v = Int32Array.from({ length: L }, (_, j) => ((i * 7919 + j * 104729) % 20001) - 10000);
      v.forEach((x, j) => (truth[j]! += x));
      const { leader, helperSeed } = await splitWithSeed(v, rnd);
      addInto(leaderAcc, leader);
      addInto(helperAcc, await expandSeed(helperSeed, L));
    }
    expect(Array.from(combineShares(leaderAcc, helperAcc))).toEqual(Array.from(truth));
  });

  it('refuses mismatched lengths', () => {
    expect(() => addInto(new Uint32Array(2), new Uint32Array(3))).toThrow(RangeError);
    expect(() => combineShares(new Uint32Array(2), new Uint32Array(3))).toThrow(RangeError);
  });
});
