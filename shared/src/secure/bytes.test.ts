import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { base64urlLength, base64urlToBytes, bytesToBase64url, bytesToUint32LE, isBase64url, uint32ToBytesLE, utf8 } from './bytes.ts';

describe('base64url', () => {
  it('round-trips every length and agrees with Buffer', () => {
    const rnd = seededRandom(9);
    for (let n = 0; n < 200; n++) {
      const bytes = new Uint8Array(n);
      const words = new Uint32Array(Math.ceil(n / 4));
      rnd(words);
      bytes.set(new Uint8Array(words.buffer).subarray(0, n));
      const s = bytesToBase64url(bytes);
      expect(s).toBe(Buffer.from(bytes).toString('base64url'));
      expect(s.length).toBe(base64urlLength(n));
      expect(isBase64url(s)).toBe(true);
      expect(base64urlToBytes(s)).toEqual(bytes);
    }
  });

  it.each(['AA==', 'A', 'AB', 'AAB', 'A+', 'A/', 'A A', 'é'])('refuses the non-canonical or invalid %j', (s) => {
    expect(() => base64urlToBytes(s)).toThrow(RangeError);
  });

  it('knows the lengths of the wire fields', () => {
    expect(base64urlLength(65)).toBe(87);
    expect(base64urlLength(32)).toBe(43);
    expect(base64urlLength(4 * 216 + 16)).toBe(1174);
  });
});

describe('utf8', () => {
  it.each(['', 'abc', 'é', '€', '😀', 'a\ud800b', 'round:2026-W48'])('matches Buffer for %j', (s) => {
    expect(Buffer.from(utf8(s)).toString('hex')).toBe(Buffer.from(s, 'utf8').toString('hex'));
  });
});

describe('uint32ToBytesLE / bytesToUint32LE', () => {
  it('lays words out little-endian and reads them back, even from an unaligned view', () => {
    expect(Array.from(uint32ToBytesLE(Uint32Array.from([0x04030201, 0xfffefdfc])))).toEqual([1, 2, 3, 4, 0xfc, 0xfd, 0xfe, 0xff]);
    expect(Array.from(uint32ToBytesLE(Int32Array.from([-1])))).toEqual([255, 255, 255, 255]);
    const raw = Uint8Array.from([9, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(bytesToUint32LE(raw.subarray(1)))).toEqual([0x04030201, 0x08070605]);
    expect(() => bytesToUint32LE(new Uint8Array(5))).toThrow(RangeError);
  });

  it('copies, so the result does not alias the input', () => {
    const words = Uint32Array.from([1]);
    const bytes = uint32ToBytesLE(words);
    words[0] = 2;
    expect(bytes[0]).toBe(1);
  });
});
