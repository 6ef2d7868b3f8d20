/**
 * ShardStore keeps one shard of one round's contributions in a Durable Object's SQLite
 * storage: id → bucket and this aggregator's share. Both aggregators' shard DOs sit on it
 * (the leader's RoundShard, the helper's own shard); each adds only what its role needs
 * around it, through `onAccepted`, so the store itself knows nothing of roles.
 */
import { FIELD_ELEMENT_BYTES, decodeFieldVector } from '@edgeseg/shared/secure';
import { GroupCommit } from '../group-commit.ts';
import { addToBucket, bucketIn, type Bucket } from './bucket.ts';
import { bucketKey } from './shard-key.ts';

const TABLE_CONTRIBUTIONS = 'contributions';
const TABLE_SPENT = 'spent_ids';
const TABLE_META = 'meta';
const META_ROUND_ID = 'round_id';
const META_SEALED = 'sealed';
const META_PURGED = 'purged';

/** One contribution as a shard stores it: the share is this aggregator's only (uniformly random on its own). */
export interface ShardItem {
  id: string;
  slice: number;
  group: number;
  /** SHA-256 of the id (for the bucket checksum), computed by the caller. */
  digest: Uint8Array;
  /** This aggregator's output share of a verified report (Field128, `encodeFieldVector`). */
  share: Uint8Array;
}

/** A shard's buckets, as returned to the coordinator at round close. */
export type ShardSummary = Record<string, Bucket>;

/** What `add` answers: new ids stored, replayed ids ignored. */
export interface AddResult {
  accepted: number;
  duplicates: number;
}

/** Options of a ShardStore. */
export interface ShardStoreOptions<T extends ShardItem> {
  /**
   * Runs inside the insert transaction for each contribution whose id was new (the
   * leader writes its relay row here, so the share and its relay commit together).
   */
  onAccepted?: (item: T) => void;
}

/**
 * Sums shares in memory and persists contributions in batches (group commit): concurrent
 * calls within a couple of milliseconds share one SQLite transaction, and each caller's
 * answer waits for that transaction, so an accepted contribution is never dropped. On
 * wake the sums are rebuilt from the stored rows.
 *
 * @example
 * const store = new ShardStore(ctx.storage);
 * await store.add('r-1', 272, [{ id, slice: 0, group: 3, digest, share }]);
 * store.seal();
 * const buckets = store.summary(272);
 * await store.purge(); // after the release: share bytes gone, ids kept
 */
export class ShardStore<T extends ShardItem = ShardItem> {
  private buckets: Map<string, Bucket> | null = null;
  private vectorLength = 0;
  private readonly storage: DurableObjectStorage;
  private readonly onAccepted: (item: T) => void;
  private readonly commits: GroupCommit<T, AddResult>;

  constructor(storage: DurableObjectStorage, opts: ShardStoreOptions<T> = {}) {
    this.storage = storage;
    this.onAccepted = opts.onAccepted ?? (() => undefined);
    this.createTables();
    this.commits = new GroupCommit(storage, (items) => this.insert(items), { onAbort: () => (this.buckets = null) });
  }

  private createTables(): void {
    this.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE_CONTRIBUTIONS} (id TEXT PRIMARY KEY, slice INTEGER NOT NULL, grp INTEGER NOT NULL, digest BLOB NOT NULL, share BLOB NOT NULL)`,
    );
    this.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_SPENT} (id TEXT PRIMARY KEY)`);
    this.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private meta(key: string): string | undefined {
    return this.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_META} WHERE key = ?`, key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string): void {
    this.storage.sql.exec(`INSERT INTO ${TABLE_META} (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`, key, value);
  }

  private loadBuckets(length: number): Map<string, Bucket> {
    if (this.buckets && this.vectorLength === length) return this.buckets;
    const buckets = new Map<string, Bucket>();
    for (const row of this.storage.sql.exec<{ slice: number; grp: number; digest: ArrayBuffer; share: ArrayBuffer }>(
      `SELECT slice, grp, digest, share FROM ${TABLE_CONTRIBUTIONS}`,
    )) {
      addToBucket(bucketIn(buckets, bucketKey(row.slice, row.grp), length), decodeFieldVector(new Uint8Array(row.share)), new Uint8Array(row.digest));
    }
    this.buckets = buckets;
    this.vectorLength = length;
    return buckets;
  }

  /**
   * The round this shard belongs to (set by the first `add`), or null before any.
   *
   * @example
   * store.roundId() // 'r-1'
   */
  roundId(): string | null {
    return this.meta(META_ROUND_ID) ?? null;
  }

  /**
   * Stores and sums contributions whose ids are new; replayed ids change nothing.
   * Refused (RoundSealedError) once the shard is sealed.
   *
   * @example
   * await store.add('r-1', 272, [{ id, slice: 0, group: 3, digest, share }])
   */
  async add(roundId: string, vectorLength: number, items: T[]): Promise<AddResult> {
    if (this.sealed()) throw new RoundSealedError(roundId);
    for (const item of items) {
      const bytes = vectorLength * FIELD_ELEMENT_BYTES;
      if (item.share.byteLength !== bytes) throw new RangeError(`share of ${item.share.byteLength} bytes, expected ${bytes}`);
    }
    this.setMeta(META_ROUND_ID, roundId);
    this.loadBuckets(vectorLength);
    return this.commits.submit(items);
  }

  /**
   * True once `seal` (or `purge`) ran: the shard takes no more contributions.
   *
   * @example
   * if (store.sealed()) return;
   */
  sealed(): boolean {
    return this.meta(META_SEALED) !== undefined;
  }

  /**
   * Closes the shard to new contributions before the round is summed: what was queued
   * is committed first (those callers were promised an answer), anything later is
   * refused, so no device is told 202 for a contribution that misses the sum.
   *
   * @example
   * store.seal();
   */
  seal(): void {
    this.commits.flush();
    this.setMeta(META_SEALED, '1');
  }

  /**
   * Inside the shared transaction: stores the new ids and, as each row is written, adds
   * its share to the in-memory sums (a failed transaction throws before any caller is
   * answered, and the sums are then rebuilt from storage).
   */
  private insert(items: T[]): AddResult {
    const buckets = this.loadBuckets(this.vectorLength);
    let accepted = 0;
    for (const it of items) {
      const cursor = this.storage.sql.exec(
        `INSERT INTO ${TABLE_CONTRIBUTIONS} (id, slice, grp, digest, share) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
        it.id,
        it.slice,
        it.group,
        it.digest,
        it.share,
      );
      if (cursor.rowsWritten === 0) continue;
      accepted++;
      addToBucket(bucketIn(buckets, bucketKey(it.slice, it.group), this.vectorLength), decodeFieldVector(it.share), it.digest);
      this.onAccepted(it);
    }
    return { accepted, duplicates: items.length - accepted };
  }

  /**
   * The shard's buckets for a vector length (field sums, counts, id checksums).
   * Throws once purged: the shares are gone, and an empty answer would read as "no one
   * contributed".
   *
   * @example
   * const summary = store.summary(272);
   */
  summary(vectorLength: number): ShardSummary {
    if (this.purged()) throw new Error(`round ${this.roundId() ?? '?'}: shares were deleted after the release`);
    return Object.fromEntries(this.loadBuckets(vectorLength));
  }

  /**
   * Forgets some contributions entirely (for example those whose other share did not
   * open), before the round is summed.
   *
   * @example
   * store.drop(['id1']);
   */
  drop(ids: string[]): void {
    this.storage.transactionSync(() => {
      for (const id of ids) this.storage.sql.exec(`DELETE FROM ${TABLE_CONTRIBUTIONS} WHERE id = ?`, id);
    });
    this.buckets = null; // rebuilt from the remaining rows on next use
  }

  /**
   * After the release (or when the round is abandoned): seals the shard and deletes every
   * contribution's share and id digest, keeping only the ids, so a replay is still
   * recognised until the round expires. Idempotent.
   *
   * A DELETE would leave the rows' bytes in SQLite's free pages and write-ahead log, where
   * a copy of the storage still finds them (workerd refuses `PRAGMA secure_delete`), so
   * the whole database is dropped (`deleteAll`, which also clears any table or alarm of
   * the Durable Object around the store: its shell recreates what it needs) and only the
   * ids and the round's marks are written back.
   *
   * @example
   * await store.purge();
   */
  async purge(): Promise<void> {
    this.seal();
    const roundId = this.roundId();
    const ids = this.storage.sql
      .exec<{ id: string }>(`SELECT id FROM ${TABLE_CONTRIBUTIONS} UNION SELECT id FROM ${TABLE_SPENT}`)
      .toArray()
      .map((r) => r.id);
    await this.storage.deleteAll();
    this.createTables();
    this.storage.transactionSync(() => {
      for (const id of ids) this.storage.sql.exec(`INSERT INTO ${TABLE_SPENT} (id) VALUES (?) ON CONFLICT(id) DO NOTHING`, id);
      if (roundId !== null) this.setMeta(META_ROUND_ID, roundId);
      this.setMeta(META_SEALED, '1');
      this.setMeta(META_PURGED, '1');
    });
    this.buckets = null;
  }

  /**
   * True once `purge` ran.
   *
   * @example
   * store.purged() // true after the release
   */
  purged(): boolean {
    return this.meta(META_PURGED) !== undefined;
  }

  /**
   * Contributions whose share is still stored (0 after `purge`), for audits and tests.
   *
   * @example
   * store.storedShares() // 0
   */
  storedShares(): number {
    return this.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE_CONTRIBUTIONS}`).one().n;
  }

  /**
   * Whether a contribution id was ever stored in this shard (kept after `purge`).
   *
   * @example
   * store.seen('q3v0X1lq0VbQm7x4Zk2l8A') // true
   */
  seen(id: string): boolean {
    return (
      this.storage.sql.exec(`SELECT 1 FROM ${TABLE_CONTRIBUTIONS} WHERE id = ? UNION ALL SELECT 1 FROM ${TABLE_SPENT} WHERE id = ?`, id, id).toArray().length > 0
    );
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
