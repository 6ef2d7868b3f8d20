/**
 * The leader's RoundShard on real workerd SQLite: a secure report waits pending until the
 * helper's verdict (verified → summed, rejected → dropped and counted, neither → still
 * pending, and the close summary then holds nothing); local contributions are summed at
 * once; replayed ids change nothing, sums survive a rebuild from the stored rows, sealing
 * refuses later reports, and purge leaves no share, digest or pending report, only the ids.
 */
import { idDigest, isRoundSealedError, ShardStore, type LeaderShardItem, type RelayItem } from '@edgeseg/aggregator';
import { encodeFieldVector, fieldFromSigned } from '@edgeseg/shared/secure';
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

const LENGTH = 3;

function relayOf(id: string): RelayItem {
  return { id, slice: 0, public_share: 'AA', sealed: { config_id: 2, enc: 'AA', ct: 'AA' }, prep_share: 'AA', joint_rand_seed: 'AA' };
}

async function item(id: string, group: number, values: number[], secure = true): Promise<LeaderShardItem> {
  return { id, slice: 0, group, digest: await idDigest(id), share: encodeFieldVector(values.map(fieldFromSigned)), relay: secure ? relayOf(id) : null };
}

function shard(name: string) {
  return env.ROUND_SHARD.get(env.ROUND_SHARD.idFromName(name));
}

const signed = (sums: readonly bigint[] | undefined) => (sums ?? []).map((x) => (x > 2n ** 127n ? -Number(2n ** 128n - 28n * 2n ** 64n + 1n - x) : Number(x)));

describe('RoundShard (leader): pending reports and the helper’s verdicts', () => {
  it('keeps secure reports pending, sums only the verified ones, counts the rejected, and leaves unanswered ones pending', async () => {
    const s = shard(`r-verdict:${crypto.randomUUID()}`);
    expect(await s.add('r-verdict', LENGTH, [await item('a', 0, [1, 2, 3]), await item('b', 0, [10, 20, -30])])).toEqual({ accepted: 2, duplicates: 0 });
    expect(await s.add('r-verdict', LENGTH, [await item('a', 0, [100, 100, 100]), await item('c', 1, [5, 5, 5]), await item('d', 1, [9, 9, 9])])).toEqual({ accepted: 2, duplicates: 1 });
    expect((await s.pendingRelay()).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(await s.stored()).toEqual({ shares: 0, relays: 4, rejected: 0 });

    await s.settle({ verified: ['a', 'b'], rejected: ['c'] });
    expect(await s.stored()).toEqual({ shares: 2, relays: 1, rejected: 1 });
    // d is still pending: the close may not sum yet.
    expect(await s.closeSummary(LENGTH)).toEqual({ buckets: {}, pending: 1, rejected: 1 });
    // A rejected id stays spent: the same report again is a replay.
    expect(await s.add('r-verdict', LENGTH, [await item('c', 1, [5, 5, 5])])).toEqual({ accepted: 0, duplicates: 1 });

    await s.settle({ verified: ['d'], rejected: [] });
    const { buckets, pending, rejected } = await s.closeSummary(LENGTH);
    expect({ pending, rejected }).toEqual({ pending: 0, rejected: 1 });
    expect(Object.keys(buckets).sort()).toEqual(['0:0', '0:1']);
    expect(buckets['0:0']?.count).toBe(2);
    expect(signed(buckets['0:0']?.sums)).toEqual([11, 22, -27]);
    expect(buckets['0:1']?.count).toBe(1);
    expect(signed(buckets['0:1']?.sums)).toEqual([9, 9, 9]);
  });

  it('sums local contributions at once and rebuilds the same sums from the stored rows', async () => {
    const s = shard(`r-rebuild:${crypto.randomUUID()}`);
    await s.add('r-rebuild', LENGTH, [await item('x', 2, [7, 8, 9], false), await item('y', 2, [1, -1, 1], false)]);
    expect(await s.stored()).toEqual({ shares: 2, relays: 0, rejected: 0 });
    const before = (await s.closeSummary(LENGTH)).buckets;
    expect(signed(before['0:2']?.sums)).toEqual([8, 7, 10]);
    const rebuilt = await runInDurableObject(s, (_, state) => new ShardStore(state.storage).summary(LENGTH));
    expect(rebuilt['0:2']?.count).toBe(before['0:2']?.count);
    expect(rebuilt['0:2']?.sums).toEqual(before['0:2']?.sums);
    expect([...(rebuilt['0:2']?.checksum ?? [])]).toEqual([...(before['0:2']?.checksum ?? [])]);
  });

  it('refuses reports once sealed but still settles pending ones, and after purge keeps the ids only', async () => {
    const s = shard(`r-purge:${crypto.randomUUID()}`);
    await s.add('r-purge', LENGTH, [await item('p1', 0, [1, 1, 1]), await item('p2', 0, [2, 2, 2])]);
    await s.seal();
    const late = await s.add('r-purge', LENGTH, [await item('p3', 0, [3, 3, 3])]).catch((e: unknown) => e);
    expect(isRoundSealedError(late)).toBe(true);
    await s.settle({ verified: ['p1', 'p2'], rejected: [] });
    expect(await s.stored()).toEqual({ shares: 2, relays: 0, rejected: 0 });

    await s.purge();
    expect(await s.stored()).toEqual({ shares: 0, relays: 0, rejected: 0 });
    const summed = await s.closeSummary(LENGTH).then(() => null, (e: unknown) => e);
    expect(String(summed)).toMatch(/deleted after the release/);
    const left = await runInDurableObject(s, (_, state) => ({
      spent: state.storage.sql.exec<{ id: string }>('SELECT id FROM spent_ids ORDER BY id').toArray().map((r) => r.id),
      rows: state.storage.sql.exec('SELECT COUNT(*) AS n FROM contributions').one().n,
      seen: new ShardStore(state.storage).seen('p1'),
    }));
    expect(left).toEqual({ spent: ['p1', 'p2'], rows: 0, seen: true });
    const replay = await s.add('r-purge', LENGTH, [await item('p1', 0, [1, 1, 1])]).catch((e: unknown) => e);
    expect(isRoundSealedError(replay)).toBe(true);
  });
});
