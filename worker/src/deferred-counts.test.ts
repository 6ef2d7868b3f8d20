import { describe, expect, it } from 'vitest';
import { DeferredCounts } from './deferred-counts.ts';

const PERIOD = 10_000;
const t0 = 1_800_000_000_000; // a window boundary (a multiple of PERIOD)

describe('DeferredCounts', () => {
  it('defers a first request, counts it with the second, then counts each one', () => {
    const counts = new DeferredCounts({ periodMs: PERIOD, maxKeys: 100 });
    expect([1, 2, 3, 4].map((i) => counts.callsFor('ip:a', t0 + i))).toEqual([0, 2, 1, 1]);
  });

  it('counts every request but the first of a key, over any number of requests in a window', () => {
    const counts = new DeferredCounts({ periodMs: PERIOD, maxKeys: 100 });
    for (const n of [1, 2, 5, 61]) {
      let calls = 0;
      for (let i = 0; i < n; i++) calls += counts.callsFor(`ip:n${n}`, t0 + i);
      expect(calls).toBe(n === 1 ? 0 : n); // a key that comes back is counted exactly
    }
  });

  it('keeps keys apart', () => {
    const counts = new DeferredCounts({ periodMs: PERIOD, maxKeys: 100 });
    expect(counts.callsFor('ip:a', t0)).toBe(0);
    expect(counts.callsFor('ip:b', t0)).toBe(0);
    expect(counts.callsFor('ip:a', t0)).toBe(2);
    expect(counts.callsFor('ip:b', t0)).toBe(2);
  });

  it('starts afresh in each window, as the fixed-window limiter does', () => {
    const counts = new DeferredCounts({ periodMs: PERIOD, maxKeys: 100 });
    expect(counts.callsFor('ip:a', t0 + PERIOD - 1)).toBe(0);
    expect(counts.callsFor('ip:a', t0 + PERIOD - 1)).toBe(2);
    expect(counts.callsFor('ip:a', t0 + PERIOD)).toBe(0);
    expect(counts.callsFor('ip:a', t0 + 2 * PERIOD + 5)).toBe(0);
    expect(counts.callsFor('ip:a', t0 + 2 * PERIOD + 6)).toBe(2);
  });

  it('counts new keys at once when its table is full, so memory stays bounded and nothing is left uncounted for lack of room', () => {
    const counts = new DeferredCounts({ periodMs: PERIOD, maxKeys: 3 });
    expect(['a', 'b', 'c'].map((k) => counts.callsFor(`ip:${k}`, t0))).toEqual([0, 0, 0]);
    expect(counts.callsFor('ip:d', t0)).toBe(1);
    expect(counts.callsFor('ip:d', t0)).toBe(1);
    expect(counts.callsFor('ip:a', t0)).toBe(2); // keys already in the table are still counted exactly
    expect(counts.callsFor('ip:e', t0 + PERIOD)).toBe(0); // a new window has room again
  });
});
