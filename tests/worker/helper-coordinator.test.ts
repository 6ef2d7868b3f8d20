// The helper's Durable Objects on workerd, driven directly (no HPKE: the shares are put
// into the helper's shards as if opened): the release noises with the helper's own σ²,
// withholds buckets under the round's minimum batch, answers a retry with the same bytes,
// purges the shares at once, and once the round's retention is over its shards forget
// every contribution id too. The policy is the lenient test policy (vitest.config.ts).
import { HELPER_SHARDS, ROUND_RETENTION_S, type HelperCoordinator, type HelperShard } from '@edgeseg/aggregator';
import { addToBucket, base64ToFieldVector, emptyBucket, idDigest, selectorOf, shardOf, TRAINING_ENCODING, type Bucket } from '@edgeseg/aggregator/rounds';
import type { RoundDescriptor } from '@edgeseg/shared';
import { rationalToNumber, sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { bytesToBase64url, decodeFieldVector, FIELD, generateHpkeKeyPair, newVerifyKey, signedFromField, vectorLength } from '@edgeseg/shared/secure';
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';

const coordinator = (): DurableObjectStub<HelperCoordinator> => env.HELPER_COORDINATOR.get(env.HELPER_COORDINATOR.idFromName('global'));
const shard = (roundId: string, i: number): DurableObjectStub<HelperShard> => env.HELPER_SHARD.get(env.HELPER_SHARD.idFromName(`${roundId}:${i}`));

/** Every cell of every table the shard's SQLite database holds (the store's own tables, not workerd's). */
async function shardCells(roundId: string, i: number): Promise<unknown[]> {
  return runInDurableObject(shard(roundId, i), (_, state) => {
    const tables = state.storage.sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'`).toArray();
    return tables.flatMap(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray().flatMap((row) => Object.values(row)));
  });
}

/** A random output share of `length` Field128 elements, encoded (top bit clear: always below p). */
function randomShare(length: number): Uint8Array {
  const bytes = crypto.getRandomValues(new Uint8Array(length * 16));
  for (let i = 15; i < bytes.length; i += 16) bytes[i] = (bytes[i] as number) & 0x7f;
  return bytes;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HelperCoordinator release and retention', () => {
  it('releases noisy shares of the buckets at the minimum batch, repeats them, purges the shares, then forgets the ids', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const [leader, helper] = [(await generateHpkeKeyPair(1)).config, (await generateHpkeKeyPair(2)).config];
    const round: RoundDescriptor = {
      round_id: `r-helper-do-${nowS}`, kind: 'kmeans', mode: 'secure', model_version: 1, k: 2, d: 3,
      slices: [[[0, 0, 0], [1, 1, 1]]], groups: 2, encoding: TRAINING_ENCODING, epsilon: 1, delta: 1e-9,
      opens_at: nowS, closes_at: nowS + 60, min_batch: 3, hpke: { leader, helper },
    };
    const own = sigma2ForEpsilon(round.epsilon, round.delta, round.encoding.bound);
    const sigma2 = `${own.num}/${own.den}`;
    const firstKey = bytesToBase64url(newVerifyKey());
    const verifyKey = bytesToBase64url(newVerifyKey());
    expect(await coordinator().open(round, sigma2, firstKey, [helper], nowS)).toMatchObject({ ok: true, sigma2 });
    // Opened again with another verify key before any report: the new key replaces the old one.
    expect(await coordinator().open(round, sigma2, verifyKey, [helper], nowS)).toMatchObject({ ok: true, sigma2 });
    expect((await coordinator().roundFor(round.round_id))?.verify_key).toBe(verifyKey);

    // Group 0 gets the minimum batch, group 1 one contribution short of it.
    const length = vectorLength(round.kind, round.k, round.d);
    const buckets = new Map<string, Bucket>();
    const ids: string[] = [];
    for (const [group, n] of [[0, round.min_batch], [1, round.min_batch - 1]] as const) {
      for (let i = 0; i < n; i++) {
        const id = `helper-do-${group}-${i}-${crypto.randomUUID().slice(0, 8)}`;
        const share = randomShare(length);
        const digest = await idDigest(id);
        await shard(round.round_id, shardOf(id, HELPER_SHARDS)).add(round.round_id, length, [{ id, slice: 0, group, digest, share }]);
        const key = `0:${group}`;
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = emptyBucket(length)));
        addToBucket(b, decodeFieldVector(share), digest);
        ids.push(id);
      }
    }
    const selector = selectorOf(buckets);
    // Once reports are stored, another verify key is a conflict (they were prepared under this one).
    expect(await coordinator().open(round, sigma2, firstKey, [helper], nowS)).toMatchObject({ ok: false, conflict: true });
    expect(await coordinator().open(round, sigma2, verifyKey, [helper], nowS)).toMatchObject({ ok: true });

    expect(await coordinator().release(round.round_id, selector, round.closes_at - 1)).toMatchObject({ ok: false, rule: 'too-early' });
    const released = await coordinator().release(round.round_id, selector, round.closes_at);
    if (!released.ok) throw new Error(released.detail);
    expect(Object.keys(released.shares)).toEqual(['0:0']);
    expect(released.counts).toEqual({ '0:0': round.min_batch });
    expect(Object.keys(released.withheld)).toEqual(['0:1']);

    // The share is the exact sum plus the helper's own discrete Gaussian noise: not the sum itself, and within 8σ per entry.
    const exact = (buckets.get('0:0') as Bucket).sums;
    const noise = base64ToFieldVector(released.shares['0:0'] as string, length).map((v, i) => signedFromField((v - (exact[i] as bigint) + FIELD.modulus) % FIELD.modulus));
    const sigma = Math.sqrt(rationalToNumber(own));
    expect(noise.some((e) => e !== 0)).toBe(true);
    for (const e of noise) expect(Math.abs(e)).toBeLessThan(8 * sigma);

    expect(await coordinator().release(round.round_id, selector, round.closes_at + 5)).toEqual(released);
    expect(await coordinator().storedShares(round.round_id)).toBe(0);
    const remembered = async () => (await Promise.all(Array.from({ length: HELPER_SHARDS }, (_, i) => shardCells(round.round_id, i)))).flat().filter((cell) => ids.includes(cell as string));
    expect(await remembered()).toHaveLength(ids.length); // ids kept for replay refusal until the round expires

    // Before the retention is over the alarm forgets nothing; after it, every id is gone.
    expect(await runDurableObjectAlarm(coordinator())).toBe(true);
    expect(await remembered()).toHaveLength(ids.length);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((round.closes_at + ROUND_RETENTION_S + 60) * 1000);
    expect(await runDurableObjectAlarm(coordinator())).toBe(true);
    expect(await remembered()).toHaveLength(0);
    expect(await coordinator().storedShares(round.round_id)).toBe(0);
    // The release itself stays answerable (it holds aggregates, not contributions).
    expect(await coordinator().release(round.round_id, selector, round.closes_at + ROUND_RETENTION_S + 60)).toEqual(released);
  });
});
