/**
 * RoundShard stores one shard of one round's reports on the leader. A secure report
 * arrives prepared but unverified: it waits in the pending table (the leader's output
 * share and the relay item for the preparation exchange) until the helper says whether
 * its proof holds; only then is its output share summed (in a ShardStore), or it is
 * dropped and counted as rejected. Local-mode contributions have no proof and are summed
 * at once. The protocol's decisions are in plain functions (ingest.ts, relay.ts).
 */
import { FIELD_ELEMENT_BYTES } from '@edgeseg/shared/secure';
import { DurableObject } from 'cloudflare:workers';
import { parseRelayAnswer, type RelayItem } from '../../round/relay.ts';
import { RoundSealedError, ShardStore, type AddResult, type ShardSummary } from '../../round/shard-store.ts';
import type { LeaderShardItem } from './ingest.ts';

const TABLE_PENDING = 'pending';
const TABLE_REJECTED = 'rejected';
const TABLE_LEADER_META = 'leader_meta';
const META_ROUND_ID = 'round_id';
const META_INGEST_CLOSED = 'ingest_closed';
const RELAY_RETRY_MS = 5000;
/**
 * How long after its first pending report a shard relays: the reports that arrive
 * meanwhile go in the same batch (each batch is a request to the helper, with its own
 * fixed cost on both aggregators), and the close relays whatever is still pending first.
 * Longer would batch more (3 s instead of 1 s saved about 0.7 ms of CPU per counts report
 * over both stacks, measured to the last verdict), but the ingest benchmark's 4 s runs
 * would then leave most of the relaying after the timed window, and flatter the rate.
 */
const RELAY_DELAY_MS = 500;
/**
 * Reports relayed per request to the helper: the helper prepares and verifies each
 * (about 0.1 s of CPU for a k = 8, d = 31 k-means report), so a batch stays a few seconds.
 */
export const RELAY_BATCH = 50;

export type { LeaderShardItem } from './ingest.ts';
export type { RelayItem } from '../../round/relay.ts';

/** What a leader's shard needs to reach the helper. */
interface RelayEnv {
  HELPER_URL?: string;
  LEADER_TOKEN?: string;
}

/** What the close reads from a shard: its buckets of verified reports, or the number still pending (then no buckets). */
export interface CloseSummary {
  buckets: ShardSummary;
  /** Reports still waiting for the helper's verdict: the close must wait (relay first). */
  pending: number;
  /** Reports the helper rejected (their proof failed). */
  rejected: number;
}

interface PendingRow {
  id: string;
  slice: number;
  grp: number;
  digest: ArrayBuffer;
  share: ArrayBuffer;
  [key: string]: SqlStorageValue;
}

/**
 * The leader's shard DO: pending reports awaiting the helper's verdict, a ShardStore
 * for verified output shares, and the count of rejected reports.
 */
export class RoundShard extends DurableObject<RelayEnv> {
  private readonly store: ShardStore<LeaderShardItem>;
  /**
   * Kept in memory, since only this object writes its storage: whether the shard takes no
   * more reports (once true, it stays true), and the round id its first report stored.
   * Undefined until read; each report then costs no meta lookups.
   */
  private closed: boolean | undefined;
  private storedRoundId: string | null | undefined;

  constructor(ctx: DurableObjectState, env: RelayEnv) {
    super(ctx, env);
    this.createTables();
    this.store = new ShardStore<LeaderShardItem>(ctx.storage);
  }

  private createTables(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_PENDING} (id TEXT PRIMARY KEY, slice INTEGER NOT NULL, grp INTEGER NOT NULL, digest BLOB NOT NULL, share BLOB NOT NULL, relay TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_REJECTED} (id TEXT PRIMARY KEY)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_LEADER_META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private meta(key: string): string | undefined {
    return this.ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_LEADER_META} WHERE key = ?`, key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string): void {
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_LEADER_META} (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`, key, value);
  }

  /** True once `seal`, the close's `closeSummary` or `purge` ran: no more reports. */
  private ingestClosed(): boolean {
    this.closed ??= this.meta(META_INGEST_CLOSED) !== undefined || this.store.sealed();
    return this.closed;
  }

  /** The round of this shard's reports (the first report's), or null before any. */
  private roundId(): string | null {
    if (this.storedRoundId === undefined) this.storedRoundId = this.meta(META_ROUND_ID) ?? null;
    return this.storedRoundId;
  }

  private count(table: string): number {
    return this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
  }

  private known(id: string): boolean {
    if (this.store.seen(id)) return true;
    return this.ctx.storage.sql.exec(`SELECT 1 FROM ${TABLE_PENDING} WHERE id = ? UNION ALL SELECT 1 FROM ${TABLE_REJECTED} WHERE id = ?`, id, id).toArray().length > 0;
  }

  /**
   * Takes reports whose ids are new: a secure one (with a relay item) waits pending for
   * the helper's verdict, a local one is summed at once; replayed ids change nothing.
   * Refused (RoundSealedError) once the shard is sealed.
   *
   * @example
   * await shard.add('r-1', 272, [item]) // { accepted: 1, duplicates: 0 }
   */
  async add(roundId: string, vectorLength: number, items: LeaderShardItem[]): Promise<AddResult> {
    if (this.ingestClosed()) throw new RoundSealedError(roundId);
    const bytes = vectorLength * FIELD_ELEMENT_BYTES;
    for (const it of items) if (it.share.byteLength !== bytes) throw new RangeError(`share of ${it.share.byteLength} bytes, expected ${bytes}`);
    if (this.roundId() === null) {
      this.setMeta(META_ROUND_ID, roundId);
      this.storedRoundId = roundId;
    }
    const local = items.filter((it) => it.relay === null);
    let accepted = 0;
    let duplicates = 0;
    // Synchronous: the check and the insert cannot interleave with another request.
    for (const it of items) {
      if (it.relay === null) continue;
      if (this.known(it.id)) {
        duplicates++;
        continue;
      }
      this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_PENDING} (id, slice, grp, digest, share, relay) VALUES (?, ?, ?, ?, ?, ?)`, it.id, it.slice, it.group, it.digest, it.share, JSON.stringify(it.relay));
      accepted++;
    }
    if (local.length) {
      const r = await this.store.add(roundId, vectorLength, local);
      accepted += r.accepted;
      duplicates += r.duplicates;
    }
    if (accepted > local.length && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RELAY_DELAY_MS);
    return { accepted, duplicates };
  }

  /**
   * Closes the shard to new reports before the round is summed. Pending reports still
   * get their verdict (relayNow), so the close never loses one the device was told 202 for.
   *
   * @example
   * await shard.seal();
   */
  seal(): void {
    this.setMeta(META_INGEST_CLOSED, '1');
    this.closed = true;
  }

  /**
   * For the close: when no report is pending, seals the store and answers its buckets of
   * verified reports; otherwise only how many are pending (relay first).
   *
   * @example
   * const { buckets, pending, rejected } = await shard.closeSummary(272);
   */
  closeSummary(vectorLength: number): CloseSummary {
    const pending = this.count(TABLE_PENDING);
    const rejected = this.count(TABLE_REJECTED);
    if (pending > 0) return { buckets: {}, pending, rejected };
    this.store.seal();
    this.closed = true;
    return { buckets: this.store.summary(vectorLength), pending: 0, rejected };
  }

  /**
   * After the release, or once the round is abandoned: deletes every share and every
   * pending report, keeping the ids only (replays stay recognisable).
   *
   * @example
   * await shard.purge();
   */
  async purge(): Promise<void> {
    this.closed = true; // before the await: no report may slip in while the database goes
    await this.store.purge(); // drops the whole database, the pending and rejected tables with it
    this.createTables();
    this.setMeta(META_INGEST_CLOSED, '1');
    this.storedRoundId = undefined;
  }

  /**
   * Per-report data still held: verified shares and pending reports (both 0 after `purge`),
   * and the reports rejected so far.
   *
   * @example
   * const { shares, relays, rejected } = await shard.stored();
   */
  stored(): { shares: number; relays: number; rejected: number } {
    return { shares: this.store.storedShares(), relays: this.count(TABLE_PENDING), rejected: this.count(TABLE_REJECTED) };
  }

  /**
   * Pending reports' relay items, oldest first.
   *
   * @example
   * const items = await shard.pendingRelay(200);
   */
  pendingRelay(limit: number = RELAY_BATCH): RelayItem[] {
    return this.ctx.storage.sql
      .exec<{ relay: string }>(`SELECT relay FROM ${TABLE_PENDING} ORDER BY rowid LIMIT ?`, limit)
      .toArray()
      .map((r) => JSON.parse(r.relay) as RelayItem);
  }

  /**
   * Applies the helper's verdicts: a verified report's output share is summed (then it
   * leaves the pending table: summed first, so a close never sees it in neither), a
   * rejected one is dropped and counted. Ids in neither list stay pending.
   *
   * @example
   * await shard.settle({ verified: ['id1'], rejected: ['id2'] });
   */
  async settle(answer: { verified: string[]; rejected: string[] }): Promise<void> {
    const roundId = this.roundId();
    if (!roundId) return;
    // One statement for the batch's verified ids (a JSON array of them), not one per id.
    const rows = answer.verified.length
      ? this.ctx.storage.sql.exec<PendingRow>(`SELECT id, slice, grp, digest, share FROM ${TABLE_PENDING} WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(answer.verified)).toArray()
      : [];
    if (rows.length) {
      const length = (rows[0] as PendingRow).share.byteLength / FIELD_ELEMENT_BYTES;
      const items = rows.map((r) => ({ id: r.id, slice: r.slice, group: r.grp, digest: new Uint8Array(r.digest), share: new Uint8Array(r.share), relay: null }));
      await this.store.add(roundId, length, items);
    }
    this.ctx.storage.transactionSync(() => {
      if (rows.length) this.ctx.storage.sql.exec(`DELETE FROM ${TABLE_PENDING} WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(rows.map((r) => r.id)));
      for (const id of answer.rejected) {
        const cursor = this.ctx.storage.sql.exec(`DELETE FROM ${TABLE_PENDING} WHERE id = ?`, id);
        if (cursor.rowsWritten > 0) this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_REJECTED} (id) VALUES (?) ON CONFLICT(id) DO NOTHING`, id);
      }
    });
  }

  /**
   * The preparation exchange for every pending report, in batches: the helper verifies
   * each and answers `verified` / `rejected`; the verdicts are applied here. Returns true
   * once nothing is pending; false when the helper could not be reached, answered
   * something unreadable, or gave no verdict on a batch (those reports stay for the next try).
   *
   * @example
   * await shard.relayNow();
   */
  async relayNow(): Promise<boolean> {
    const roundId = this.roundId();
    if (!roundId) return true;
    if (!this.env.HELPER_URL) return this.count(TABLE_PENDING) === 0;
    for (;;) {
      // The items as stored (each the JSON text of a RelayItem written at ingest), sent as they are: no parse and re-serialise per report.
      const rows = this.ctx.storage.sql.exec<{ id: string; relay: string }>(`SELECT id, relay FROM ${TABLE_PENDING} ORDER BY rowid LIMIT ?`, RELAY_BATCH).toArray();
      if (rows.length === 0) return true;
      let answer: { verified: string[]; rejected: string[] } | null;
      try {
        const res = await fetch(`${this.env.HELPER_URL}/internal/v1/shares`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.env.LEADER_TOKEN}` },
          body: `{"round_id":${JSON.stringify(roundId)},"items":[${rows.map((r) => r.relay).join(',')}]}`,
        });
        if (!res.ok) {
          await res.body?.cancel();
          return false;
        }
        answer = parseRelayAnswer(await res.json(), new Set(rows.map((r) => r.id)));
      } catch {
        return false;
      }
      if (!answer || answer.verified.length + answer.rejected.length === 0) return false;
      await this.settle(answer);
    }
  }

  override async alarm(): Promise<void> {
    if (!(await this.relayNow())) await this.ctx.storage.setAlarm(Date.now() + RELAY_RETRY_MS);
  }
}
