import { FIELD } from '@edgeseg/shared/secure';
import { describe, expect, it } from 'vitest';
import { base64ToFieldVector, fieldVectorToBase64 } from './wire.ts';

describe('field vector ↔ base64 wire', () => {
  it('writes 16 bytes little-endian per element and reads back every value, edges included', () => {
    const v = [0n, 1n, 0xffn, 0x100n, 2n ** 64n + 7n, FIELD.modulus - 1n];
    expect(fieldVectorToBase64([1n])).toBe(btoa(String.fromCharCode(1, ...new Array<number>(15).fill(0))));
    expect(base64ToFieldVector(fieldVectorToBase64(v))).toEqual(v);
  });

  it('round-trips a vector longer than one chunk of the encoder', () => {
    const v = Array.from({ length: 5_000 }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) % FIELD.modulus);
    expect(base64ToFieldVector(fieldVectorToBase64(v), v.length)).toEqual(v);
  });

  it('refuses a wrong length, a partial element, an unreduced element and non-base64', () => {
    const two = fieldVectorToBase64([1n, 2n]);
    expect(() => base64ToFieldVector(two, 3)).toThrow(RangeError);
    expect(() => base64ToFieldVector(btoa('x'.repeat(17)))).toThrow(RangeError);
    const p = new Uint8Array(16);
    let x = FIELD.modulus;
    for (let i = 0; i < 16; i++, x >>= 8n) p[i] = Number(x & 0xffn);
    expect(() => base64ToFieldVector(btoa(String.fromCharCode(...p)))).toThrow(RangeError);
    expect(() => base64ToFieldVector('not base64!')).toThrow();
  });
});
