/**
 * RoundShard stores one shard of one round's contributions on the leader: the leader's
 * opened share (in a ShardStore) and the helper's still-sealed share, awaiting relay.
 */
import { DurableObject } from 'cloudflare:workers';
import { ShardStore, type AddResult, type ShardItem, type ShardSummary } from '../../round/shard-store.ts';

const TABLE_RELAY = 'relay';
const RELAY_RETRY_MS = 5000;
/** Helper ciphertexts relayed per request to the helper. */
export const RELAY_BATCH = 200;

/** One contribution as the leader's shard takes it: its own share, and the helper's sealed share (JSON) or null (local mode). */
export interface LeaderShardItem extends ShardItem {
  relay: string | null;
}

/** Relay work: helper ciphertexts not yet acknowledged by the helper. */
export interface RelayItem {
  id: string;
  slice: number;
  group: number;
  sealed: string;
}

/** What a leader's shard needs to reach the helper. */
interface RelayEnv {
  HELPER_URL?: string;
  LEADER_TOKEN?: string;
}

/**
 * The leader's shard DO: a ShardStore for its shares, plus a relay queue of the helper's
 * sealed shares, written in the same transaction as the share they belong to.
 */
export class RoundShard extends DurableObject<RelayEnv> {
  private readonly store: ShardStore<LeaderShardItem>;

  constructor(ctx: DurableObjectState, env: RelayEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELAY} (id TEXT PRIMARY KEY, slice INTEGER NOT NULL, grp INTEGER NOT NULL, sealed TEXT NOT NULL)`);
    this.store = new ShardStore<LeaderShardItem>(ctx.storage, {
      onAccepted: (it) => {
        if (it.relay !== null) ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELAY} (id, slice, grp, sealed) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`, it.id, it.slice, it.group, it.relay);
      },
    });
  }

  /**
   * Stores and sums contributions whose ids are new; replayed ids change nothing.
   *
   * @example
   * await shard.add('r-1', 272, [{ id, slice: 0, group: 3, digest, share, relay }])
   */
  async add(roundId: string, vectorLength: number, items: LeaderShardItem[]): Promise<AddResult> {
    const result = await this.store.add(roundId, vectorLength, items);
    if (result.accepted > 0 && items.some((i) => i.relay !== null) && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 500);
    return result;
  }

  /**
   * Closes the shard to new contributions before the round is summed (see ShardStore.seal).
   *
   * @example
   * await shard.seal();
   */
  seal(): void {
    this.store.seal();
  }

  /**
   * The shard's buckets for a vector length (sums mod 2^32, counts, id checksums).
   *
   * @example
   * const summary = await shard.summary(272);
   */
  summary(vectorLength: number): ShardSummary {
    return this.store.summary(vectorLength);
  }

  /**
   * After the release, or once the round is abandoned: deletes every share and every
   * unrelayed helper ciphertext, keeping the ids only (replays stay recognisable).
   *
   * @example
   * await shard.purge();
   */
  async purge(): Promise<void> {
    await this.store.purge(); // drops the whole database, the relay queue with it
    this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELAY} (id TEXT PRIMARY KEY, slice INTEGER NOT NULL, grp INTEGER NOT NULL, sealed TEXT NOT NULL)`);
  }

  /**
   * Per-contribution data still held: shares and helper ciphertexts (both 0 after `purge`).
   *
   * @example
   * const { shares, relays } = await shard.stored();
   */
  stored(): { shares: number; relays: number } {
    const relays = this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE_RELAY}`).one().n;
    return { shares: this.store.storedShares(), relays };
  }

  /**
   * Helper ciphertexts not yet relayed, oldest first.
   *
   * @example
   * const items = await shard.pendingRelay(200);
   */
  pendingRelay(limit: number = RELAY_BATCH): RelayItem[] {
    return this.ctx.storage.sql
      .exec<{ id: string; slice: number; grp: number; sealed: string }>(`SELECT id, slice, grp, sealed FROM ${TABLE_RELAY} LIMIT ?`, limit)
      .toArray()
      .map((r) => ({ id: r.id, slice: r.slice, group: r.grp, sealed: r.sealed }));
  }

  /**
   * Forgets helper ciphertexts the helper has acknowledged.
   *
   * @example
   * await shard.markRelayed(['id1', 'id2']);
   */
  markRelayed(ids: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) this.ctx.storage.sql.exec(`DELETE FROM ${TABLE_RELAY} WHERE id = ?`, id);
    });
  }

  /**
   * Sends every pending helper ciphertext to the helper, in batches, and forgets each
   * batch once the helper acknowledges it. Returns false if the helper could not be
   * reached (the items stay for the next try).
   *
   * @example
   * await shard.relayNow();
   */
  async relayNow(): Promise<boolean> {
    const roundId = this.store.roundId();
    if (!this.env.HELPER_URL || !roundId) return true;
    for (;;) {
      const items = this.pendingRelay();
      if (items.length === 0) return true;
      let rejected: string[];
      try {
        const res = await fetch(`${this.env.HELPER_URL}/internal/v1/shares`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.env.LEADER_TOKEN}` },
          body: JSON.stringify({ round_id: roundId, items }),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return false;
        }
        const body: unknown = await res.json();
        const list = typeof body === 'object' && body !== null && Array.isArray((body as { rejected?: unknown }).rejected) ? (body as { rejected: unknown[] }).rejected : [];
        const sent = new Set(items.map((i) => i.id));
        rejected = list.filter((x): x is string => typeof x === 'string' && sent.has(x)); // only ids of this batch
      } catch {
        return false;
      }
      this.markRelayed(items.map((i) => i.id));
      // A helper share that does not open would make the two batches differ and block the
      // release: drop those contributions here too, so one bad device cannot stall a round.
      if (rejected.length) this.store.drop(rejected);
    }
  }

  override async alarm(): Promise<void> {
    if (!(await this.relayNow())) await this.ctx.storage.setAlarm(Date.now() + RELAY_RETRY_MS);
  }
}
