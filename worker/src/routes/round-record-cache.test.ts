import { describe, expect, it } from 'vitest';
import { roundRecordCache } from './round-record-cache.ts';

/** A coordinator stand-in: the records it holds, and every read it was asked for. */
function fakeCoordinator(records: Map<string, { state: string }>) {
  const reads: string[] = [];
  const read = async (roundId: string) => {
    reads.push(roundId);
    const r = records.get(roundId);
    return r ? { ...r } : null;
  };
  return { reads, read };
}

describe('roundRecordCache', () => {
  it('reads a found round once per ttl, shares one read between concurrent lookups, and reads again after the ttl', async () => {
    const { reads, read } = fakeCoordinator(new Map([['r-1', { state: 'open' }]]));
    let now = 1_000;
    const cache = roundRecordCache(read, { ttlMs: 1000, now: () => now });
    const [a, b] = await Promise.all([cache.get('r-1'), cache.get('r-1')]);
    expect(a).toEqual({ state: 'open' });
    expect(b).toBe(a);
    now += 999;
    expect(await cache.get('r-1')).toBe(a);
    expect(reads).toEqual(['r-1']);
    now += 1;
    expect(await cache.get('r-1')).not.toBe(a);
    expect(reads).toEqual(['r-1', 'r-1']);
  });

  it('never keeps a missing round or a failed read: a round opened a moment later is found', async () => {
    const records = new Map<string, { state: string }>();
    const { reads, read } = fakeCoordinator(records);
    const cache = roundRecordCache(read, { now: () => 5_000 });
    expect(await cache.get('r-2')).toBeNull();
    records.set('r-2', { state: 'open' });
    expect(await cache.get('r-2')).toEqual({ state: 'open' });
    expect(reads).toEqual(['r-2', 'r-2']);

    let fail = true;
    const flaky = roundRecordCache(async () => {
      if (fail) throw new Error('coordinator unreachable');
      return { state: 'open' };
    });
    await expect(flaky.get('r-3')).rejects.toThrow('coordinator unreachable');
    fail = false;
    expect(await flaky.get('r-3')).toEqual({ state: 'open' });
  });

  it('reads a round again once forgotten, and keeps at most `max` rounds (the oldest read goes first)', async () => {
    const records = new Map(['a', 'b', 'c'].map((id) => [id, { state: 'open' }] as const));
    const { reads, read } = fakeCoordinator(records);
    const cache = roundRecordCache(read, { max: 2, now: () => 0 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // kept
    cache.forget('b');
    await cache.get('b'); // forgotten: read again
    await cache.get('c'); // a third round: 'a' (the oldest read) goes
    await cache.get('b'); // still kept
    await cache.get('a'); // read again
    expect(reads).toEqual(['a', 'b', 'b', 'c', 'a']);
  });
});
