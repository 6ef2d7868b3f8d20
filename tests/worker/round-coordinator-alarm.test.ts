// The leader's RoundCoordinator alarm on workerd (issue #16, "an alarm that is never
// lost"): one round whose close throws an unexpected error does not stop another round
// due with it, it becomes that round's retry with a stated reason and the alarm is
// re-armed for it; "close now" on a closing round makes it due at once and arms the
// alarm; a rounds table from before `due_at` had that name is migrated.
import { RetryCloseLater, RoundCoordinator, type RoundRecord } from '@edgeseg/aggregator';
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

const coordinator = (name: string) => env.ROUND_COORDINATOR.get(env.ROUND_COORDINATOR.idFromName(name));

/** A local-mode k-means round that closed `agoS` seconds ago (no helper is asked; with no contributions it is abandoned). */
function localRound(roundId: string, agoS: number): RoundRecord {
  const closesAt = Math.floor(Date.now() / 1000) - agoS;
  return {
    descriptor: {
      round_id: roundId, kind: 'kmeans', mode: 'local', model_version: 1, k: 2, d: 1, slices: [[[0], [1]]], groups: 1,
      encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
      epsilon: 1, delta: 1e-9, opens_at: closesAt - 3600, closes_at: closesAt, min_batch: 5,
      hpke: { leader: { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'x' } },
    },
    shards: 1, sigma2: '9/1', verify_key: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'open', opened_at: closesAt - 3600, closed_at: null, contributions: null, reason: null, result: null,
  };
}

/** The due time the coordinator keeps for a round (epoch seconds). */
function dueAt(name: string, roundId: string): Promise<number | undefined> {
  return runInDurableObject(coordinator(name), (_, state) => state.storage.sql.exec<{ due_at: number }>('SELECT due_at FROM rounds WHERE round_id = ?', roundId).toArray()[0]?.due_at);
}

/** Polls `read` until `done` holds (bounded), for the alarms workerd fires by itself. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** Makes the coordinator's gather fail for `roundIds` with `error()`, counting the failed calls. */
async function failGather(name: string, roundIds: readonly string[], error: () => Error): Promise<void> {
  await runInDurableObject(coordinator(name), (instance) => {
    const patched = instance as unknown as { gather: (r: RoundRecord, relay: boolean) => Promise<unknown>; failedGathers: number };
    const gather = patched.gather.bind(instance);
    patched.failedGathers = 0;
    patched.gather = (r, relay) => {
      if (!roundIds.includes(r.descriptor.round_id)) return gather(r, relay);
      patched.failedGathers++;
      return Promise.reject(error());
    };
  });
}

const failedGathers = (name: string): Promise<number> => runInDurableObject(coordinator(name), (instance) => (instance as unknown as { failedGathers: number }).failedGathers);

describe('RoundCoordinator alarm', () => {
  it('retries a round whose close threw with its reason, still closes another due round, and re-arms the alarm', async () => {
    const name = 'alarm-unexpected-error';
    const stub = coordinator(name);
    // As a Durable Object call that throws would: patched before any round is due.
    await failGather(name, ['throws'], () => new Error('shard call failed'));
    await stub.open(localRound('throws', 30));
    await stub.open(localRound('closes', 20));

    const other = await eventually(() => stub.get('closes'), (r) => r?.state === 'abandoned');
    expect(other?.state).toBe('abandoned');
    expect(other?.reason).toMatch(/^0 contributions, no bucket reached the minimum batch of 5/);
    const failed = await eventually(() => stub.get('throws'), (r) => r?.state === 'closing');
    expect(failed?.state).toBe('closing');
    expect(failed?.close_attempts).toBeGreaterThanOrEqual(1);
    expect(failed?.reason).toBe('retrying (unexpected-error): shard call failed');

    // Armed for that round's retry, which then runs by itself.
    const armed = await runInDurableObject(stub, async (_, state) => ({
      due: state.storage.sql.exec<{ due_at: number }>("SELECT due_at FROM rounds WHERE round_id = 'throws'").one().due_at,
      alarm: await state.storage.getAlarm(),
    }));
    expect(armed.alarm).toBe(armed.due * 1000);
    const attempted = await failedGathers(name);
    expect(await eventually(() => failedGathers(name), (n) => n > attempted)).toBeGreaterThan(attempted);
  });

  it('"close now" on a closing round makes it due at once and arms the alarm', async () => {
    const name = 'alarm-push-closing';
    const stub = coordinator(name);
    const round = localRound('stuck', 30);
    // The helper's clock is an hour behind: the retry waits an hour.
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    await failGather(name, ['stuck'], () => new RetryCloseLater('too-early', 'helper: not yet', inAnHour));
    await stub.open(round);
    expect(await eventually(() => failedGathers(name), (n) => n >= 1)).toBe(1);
    expect((await stub.get('stuck'))?.state).toBe('closing');
    expect(await dueAt(name, 'stuck')).toBe(inAnHour + 1);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe((inAnHour + 1) * 1000);

    expect((await stub.closeNow('stuck'))?.state).toBe('closing');
    // Tried again at once by the alarm itself, not in an hour.
    expect(await eventually(() => failedGathers(name), (n) => n >= 2)).toBe(2);
  });

  it('renames the closes_at column of an older rounds table to due_at, keeping its rows', async () => {
    const stub = coordinator('alarm-migration');
    const record = localRound('old', -600);
    const rows = await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec('DROP TABLE rounds');
      state.storage.sql.exec('CREATE TABLE rounds (round_id TEXT PRIMARY KEY, record TEXT NOT NULL, closes_at INTEGER NOT NULL, state TEXT NOT NULL)');
      state.storage.sql.exec('INSERT INTO rounds (round_id, record, closes_at, state) VALUES (?, ?, ?, ?)', 'old', JSON.stringify(record), record.descriptor.closes_at, 'open');
      const migrated = new RoundCoordinator(state, env);
      const columns = state.storage.sql.exec<{ name: string }>('PRAGMA table_info(rounds)').toArray().map((c) => c.name);
      return { columns, current: migrated.current(Math.floor(Date.now() / 1000))?.round_id };
    });
    expect(rows.columns).toContain('due_at');
    expect(rows.columns).not.toContain('closes_at');
    expect(rows.current).toBe('old');
    expect(await dueAt('alarm-migration', 'old')).toBe(record.descriptor.closes_at);
  });
});
