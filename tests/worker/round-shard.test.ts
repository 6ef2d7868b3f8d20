/**
 * The leader's RoundShard over ShardStore on real workerd SQLite: replayed ids change
 * nothing, sums survive a rebuild from the stored rows, sealing refuses later adds, and
 * purge leaves no share, digest or helper ciphertext, only the ids.
 */
import { idDigest, isRoundSealedError, ShardStore, type LeaderShardItem } from '@edgeseg/aggregator';
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

const LENGTH = 3;

function shareBytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return bytes;
}

async function item(id: string, group: number, values: number[], relay: string | null = `{"sealed":"${id}"}`): Promise<LeaderShardItem> {
  return { id, slice: 0, group, digest: await idDigest(id), share: shareBytes(values), relay };
}

function shard(name: string) {
  return env.ROUND_SHARD.get(env.ROUND_SHARD.idFromName(name));
}

describe('RoundShard (leader) on ShardStore', () => {
  it('stores each id once, sums per bucket, and queues helper ciphertexts for relay', async () => {
    const s = shard(`r-dedupe:${crypto.randomUUID()}`);
    expect(await s.add('r-dedupe', LENGTH, [await item('a', 0, [1, 2, 3]), await item('b', 0, [10, 20, 0xffffffff])])).toEqual({ accepted: 2, duplicates: 0 });
    expect(await s.add('r-dedupe', LENGTH, [await item('a', 0, [100, 100, 100]), await item('c', 1, [5, 5, 5])])).toEqual({ accepted: 1, duplicates: 1 });
    const summary = await s.summary(LENGTH);
    expect(Object.keys(summary).sort()).toEqual(['0:0', '0:1']);
    expect(summary['0:0']?.count).toBe(2);
    expect([...(summary['0:0']?.sums ?? [])]).toEqual([11, 22, 2]); // mod 2^32
    expect((await s.pendingRelay()).map((r) => r.id).sort()).toEqual(['a', 'b', 'c']);
    expect(await s.stored()).toEqual({ shares: 3, relays: 3 });
  });

  it('rebuilds the same sums from the stored rows (a woken object has no memory)', async () => {
    const name = `r-rebuild:${crypto.randomUUID()}`;
    const s = shard(name);
    await s.add('r-rebuild', LENGTH, [await item('x', 2, [7, 8, 9], null), await item('y', 2, [1, 1, 1], null)]);
    const before = await s.summary(LENGTH);
    const rebuilt = await runInDurableObject(s, (_, state) => new ShardStore(state.storage).summary(LENGTH));
    expect(rebuilt['0:2']?.count).toBe(before['0:2']?.count);
    expect([...(rebuilt['0:2']?.sums ?? [])]).toEqual([...(before['0:2']?.sums ?? [])]);
    expect([...(rebuilt['0:2']?.checksum ?? [])]).toEqual([...(before['0:2']?.checksum ?? [])]);
  });

  it('refuses contributions once sealed, and after purge keeps the ids only', async () => {
    const s = shard(`r-purge:${crypto.randomUUID()}`);
    await s.add('r-purge', LENGTH, [await item('p1', 0, [1, 1, 1]), await item('p2', 0, [2, 2, 2])]);
    await s.seal();
    const late = await s.add('r-purge', LENGTH, [await item('p3', 0, [3, 3, 3])]).catch((e: unknown) => e);
    expect(isRoundSealedError(late)).toBe(true);
    expect(await s.stored()).toEqual({ shares: 2, relays: 2 });

    await s.purge();
    expect(await s.stored()).toEqual({ shares: 0, relays: 0 });
    const summed = await s.summary(LENGTH).then(() => null, (e: unknown) => e);
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
