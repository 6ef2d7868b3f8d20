import { describe, expect, it } from 'vitest';
import { base64ToUint32, uint32ToBase64 } from './wire.ts';

describe('uint32 ↔ base64 wire', () => {
  it('writes little-endian and reads back every value, edges included', () => {
    const v = Uint32Array.from([0, 1, 0xff, 0x100, 0xdeadbeef, 0xffffffff]);
    expect(uint32ToBase64(Uint32Array.from([1]))).toBe(btoa(String.fromCharCode(1, 0, 0, 0)));
    expect([...base64ToUint32(uint32ToBase64(v))]).toEqual([...v]);
  });

  it('round-trips a vector longer than one chunk of the encoder', () => {
    const v = Uint32Array.from({ length: 20_000 }, (_, i) => (i * 2654435761) >>> 0);
    expect([...base64ToUint32(uint32ToBase64(v))]).toEqual([...v]);
  });
});
