/** RoundShard stores one shard of one round's contributions on one aggregator: id → bucket, opened share, and (leader) the helper ciphertext awaiting relay. */
import { DurableObject } from 'cloudflare:workers';
import { GroupCommit } from './group-commit.ts';
import { addToBucket, emptyBucket, type Bucket } from './round/bucket.ts';
import { bucketKey } from './round/shard-key.ts';

const TABLE_CONTRIBUTIONS = 'contributions';
const TABLE_META = 'meta';
const META_ROUND_ID = 'round_id';
const META_SEALED = 'sealed';
const RELAY_RETRY_MS = 5000;
/** Helper ciphertexts relayed per request to the helper. */
export const RELAY_BATCH = 200;

/** One contribution as a shard stores it: the share is this aggregator's only (uniformly random on its own). */
export interface ShardItem {
  id: string;
  slice: number;
  group: number;
  /** SHA-256 of the id (for the bucket checksum), computed by the caller. */
  digest: Uint8Array;
  /** This aggregator's share, uint32 little-endian. */
  share: Uint8Array;
  /** Leader only: the helper's sealed share (JSON), relayed later. */
  relay: string | null;
}

/** A shard's buckets, as returned to the coordinator at round close. */
export type ShardSummary = Record<string, Bucket>;

/** Relay work: helper ciphertexts not yet acknowledged by the helper. */
export interface RelayItem {
  id: string;
  slice: number;
  group: number;
  sealed: string;
}


function toUint32(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.byteLength >>> 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/**
 * Sums shares in memory and persists contributions in batches (group commit): concurrent
 * calls within a couple of milliseconds share one SQLite transaction, and each caller's
 * answer waits for that transaction, so an accepted contribution is never dropped. On
 * wake the sums are rebuilt from the stored rows.
 */
export class RoundShard extends DurableObject<unknown> {
  private buckets: Map<string, Bucket> | null = null;
  private vectorLength = 0;
  private readonly commits: GroupCommit<ShardItem, { accepted: number; duplicates: number }>;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE_CONTRIBUTIONS} (id TEXT PRIMARY KEY, slice INTEGER NOT NULL, grp INTEGER NOT NULL, digest BLOB NOT NULL, share BLOB NOT NULL, relay TEXT)`,
    );
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    this.commits = new GroupCommit(ctx.storage, (items) => this.insert(items), { onAbort: () => (this.buckets = null) });
  }

  private loadBuckets(length: number): Map<string, Bucket> {
    if (this.buckets && this.vectorLength === length) return this.buckets;
    const buckets = new Map<string, Bucket>();
    for (const row of this.ctx.storage.sql.exec<{ slice: number; grp: number; digest: ArrayBuffer; share: ArrayBuffer }>(`SELECT slice, grp, digest, share FROM ${TABLE_CONTRIBUTIONS}`)) {
      const key = bucketKey(row.slice, row.grp);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = emptyBucket(length)));
      addToBucket(b, toUint32(new Uint8Array(row.share)), new Uint8Array(row.digest));
    }
    this.buckets = buckets;
    this.vectorLength = length;
    return buckets;
  }

  /**
   * Stores and sums contributions whose ids are new; replayed ids change nothing.
   *
   * @example
   * await shard.add('r-1', 272, [{ id, slice: 0, group: 3, digest, share, relay }])
   */
  async add(roundId: string, vectorLength: number, items: ShardItem[]): Promise<{ accepted: number; duplicates: number }> {
    if (this.sealed()) throw new RoundSealedError(roundId);
    for (const item of items) {
      if (item.share.byteLength !== vectorLength * 4) throw new RangeError(`share of ${item.share.byteLength} bytes, expected ${vectorLength * 4}`);
    }
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_META} (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`, META_ROUND_ID, roundId);
    this.loadBuckets(vectorLength);
    const result = await this.commits.submit(items);
    if (result.accepted > 0 && items.some((i) => i.relay !== null)) await this.ensureRelayAlarm();
    return result;
  }

  private sealed(): boolean {
    return this.ctx.storage.sql.exec(`SELECT 1 FROM ${TABLE_META} WHERE key = ?`, META_SEALED).toArray().length > 0;
  }

  /**
   * Closes the shard to new contributions before the round is summed: what was queued
   * is committed first (those callers were promised an answer), anything later is
   * refused, so no device is told 202 for a contribution that misses the sum.
   *
   * @example
   * await shard.seal();
   */
  seal(): void {
    this.commits.flush();
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_META} (key, value) VALUES (?, '1') ON CONFLICT(key) DO NOTHING`, META_SEALED);
  }

  /**
   * Inside the shared transaction: stores the new ids and, as each row is written, adds
   * its share to the in-memory sums (a failed transaction throws before any caller is
   * answered, and the sums are then rebuilt from storage).
   */
  private insert(items: ShardItem[]): { accepted: number; duplicates: number } {
    const buckets = this.loadBuckets(this.vectorLength);
    let accepted = 0;
    for (const it of items) {
      const cursor = this.ctx.storage.sql.exec(
        `INSERT INTO ${TABLE_CONTRIBUTIONS} (id, slice, grp, digest, share, relay) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
        it.id,
        it.slice,
        it.group,
        it.digest,
        it.share,
        it.relay,
      );
      if (cursor.rowsWritten === 0) continue;
      accepted++;
      const key = bucketKey(it.slice, it.group);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = emptyBucket(this.vectorLength)));
      addToBucket(b, toUint32(it.share), it.digest);
    }
    return { accepted, duplicates: items.length - accepted };
  }

  private async ensureRelayAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 500);
  }

  /**
   * The shard's buckets for a vector length (sums mod 2^32, counts, id checksums).
   *
   * @example
   * const summary = await shard.summary(272);
   */
  summary(vectorLength: number): ShardSummary {
    return Object.fromEntries(this.loadBuckets(vectorLength));
  }

  /**
   * Leader: helper ciphertexts not yet relayed, oldest first.
   *
   * @example
   * const items = await shard.pendingRelay(200);
   */
  pendingRelay(limit: number = RELAY_BATCH): RelayItem[] {
    return this.ctx.storage.sql
      .exec<{ id: string; slice: number; grp: number; relay: string }>(`SELECT id, slice, grp, relay FROM ${TABLE_CONTRIBUTIONS} WHERE relay IS NOT NULL LIMIT ?`, limit)
      .toArray()
      .map((r) => ({ id: r.id, slice: r.slice, group: r.grp, sealed: r.relay }));
  }

  /**
   * Leader: forgets helper ciphertexts the helper has acknowledged.
   *
   * @example
   * await shard.markRelayed(['id1', 'id2']);
   */
  markRelayed(ids: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) this.ctx.storage.sql.exec(`UPDATE ${TABLE_CONTRIBUTIONS} SET relay = NULL WHERE id = ?`, id);
    });
  }

  /**
   * Leader: sends every pending helper ciphertext to the helper, in batches, and forgets
   * each batch once the helper acknowledges it. Returns false if the helper could not be
   * reached (the items stay for the next try).
   *
   * @example
   * await shard.relayNow();
   */
  async relayNow(): Promise<boolean> {
    const env = this.env as RelayEnv;
    const roundId = this.ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_META} WHERE key = ?`, META_ROUND_ID).toArray()[0]?.value;
    if (!env.HELPER_URL || !roundId) return true;
    for (;;) {
      const items = this.pendingRelay();
      if (items.length === 0) return true;
      let rejected: string[];
      try {
        const res = await fetch(`${env.HELPER_URL}/internal/v1/shares`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${env.LEADER_TOKEN}` },
          body: JSON.stringify({ round_id: roundId, items }),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return false;
        }
        rejected = ((await res.json()) as { rejected?: string[] }).rejected ?? [];
      } catch {
        return false;
      }
      this.markRelayed(items.map((i) => i.id));
      // A helper share that does not open would make the two batches differ and block the
      // release: drop those contributions here too, so one bad device cannot stall a round.
      if (rejected.length) this.drop(rejected);
    }
  }

  private drop(ids: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) this.ctx.storage.sql.exec(`DELETE FROM ${TABLE_CONTRIBUTIONS} WHERE id = ?`, id);
    });
    this.buckets = null; // rebuilt from the remaining rows on next use
  }

  override async alarm(): Promise<void> {
    if (!(await this.relayNow())) await this.ctx.storage.setAlarm(Date.now() + RELAY_RETRY_MS);
  }
}

/** Thrown by `add` once the shard is sealed for its round's close. */
export class RoundSealedError extends Error {
  constructor(roundId: string) {
    super(`round ${roundId} is closing: it takes no more contributions`);
    this.name = 'RoundSealedError';
  }
}

/**
 * True for a RoundSealedError, also after it crossed a Durable Object RPC boundary
 * (which keeps the message, not the class).
 *
 * @example
 * if (isRoundSealedError(err)) throw new ProblemError('round-not-open', err.message);
 */
export function isRoundSealedError(err: unknown): err is Error {
  return err instanceof Error && /takes no more contributions/.test(err.message);
}

/** What a leader's shard needs to reach the helper. */
interface RelayEnv {
  HELPER_URL?: string;
  LEADER_TOKEN?: string;
}
