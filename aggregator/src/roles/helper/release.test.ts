import { describe, expect, it } from 'vitest';
import type { BatchSelector } from '../../round/close.ts';
import { decideRelease, sameSelector } from './release.ts';

const ROUND = { round_id: 'r-1', closes_at: 1000, min_batch: 3 };
const MINE: BatchSelector = { '0:0': { count: 5, checksum: 'aa' }, '0:1': { count: 2, checksum: 'bb' } };

describe('decideRelease', () => {
  it('releases the buckets at or over the minimum batch and withholds the others, with the helper’s counts', () => {
    const d = decideRelease(ROUND, MINE, structuredClone(MINE), 1000);
    expect(d).toEqual({ ok: true, released: ['0:0'], withheld: { '0:1': expect.stringContaining('minimum batch of 3') as string }, counts: { '0:0': 5 }, replay: false });
  });

  it('refuses before the close time', () => {
    expect(decideRelease(ROUND, MINE, MINE, 999)).toMatchObject({ ok: false, rule: 'too-early' });
  });

  it('refuses a selector whose count, checksum or buckets differ from the helper’s own', () => {
    const forgedCount = { ...MINE, '0:0': { count: 6, checksum: 'aa' } };
    const otherIds = { ...MINE, '0:0': { count: 5, checksum: 'cc' } };
    const { '0:1': _dropped, ...missing } = MINE;
    const extra = { ...MINE, '1:0': { count: 1, checksum: 'dd' } };
    for (const selector of [forgedCount, otherIds, missing, extra]) expect(decideRelease(ROUND, MINE, selector, 2000)).toMatchObject({ ok: false, rule: 'batch-mismatch' });
  });

  it('after a release: the same selector is a replay of that release, another is refused', () => {
    const replay = decideRelease(ROUND, {}, structuredClone(MINE), 2000, MINE);
    expect(replay).toMatchObject({ ok: true, released: ['0:0'], counts: { '0:0': 5 }, replay: true });
    expect(decideRelease(ROUND, MINE, { '0:0': MINE['0:0'] as { count: number; checksum: string } }, 2000, MINE)).toMatchObject({ ok: false, rule: 'already-released' });
  });
});

describe('sameSelector', () => {
  it('compares buckets, counts and checksums, whatever the key order', () => {
    expect(sameSelector(MINE, { '0:1': { count: 2, checksum: 'bb' }, '0:0': { count: 5, checksum: 'aa' } })).toBe(true);
    expect(sameSelector(MINE, { ...MINE, '0:1': { count: 2, checksum: 'bc' } })).toBe(false);
    expect(sameSelector({}, {})).toBe(true);
  });
});
