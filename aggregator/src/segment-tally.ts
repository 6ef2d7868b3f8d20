/** SegmentTally stores the randomized reports of one tally and period: report id → reported value, and the period's one release. */
import { DurableObject } from 'cloudflare:workers';
import { summariseTally, type TallySummary } from './tally.ts';

const TABLE_REPORTS = 'reports';
const TABLE_RELEASE = 'release';

/** The answer to `addReports`: how many were new, how many were replays of stored ids, and which ids those were (the routes answer per item). */
export interface AddReportsResult {
  accepted: number;
  duplicates: number;
  replayedIds: string[];
}

/**
 * One instance per tally and period (a segmentation's reports, its lifecycle reports, a
 * model's impressions: worker/src/routes), so a period's reports are counted in one place
 * and idempotency ids are checked there.
 */
export class SegmentTally extends DurableObject<unknown> {
  /** The stored release once read (null: none yet), undefined before the first read. */
  private storedRelease: TallySummary | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_REPORTS} (id TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELEASE} (id INTEGER PRIMARY KEY CHECK (id = 1), summary TEXT NOT NULL)`);
  }

  /**
   * Stores reports whose ids are new; replayed ids change nothing. One transaction per
   * call, committed before the call returns. No batching of our own: workerd coalesces
   * the writes of concurrent calls into shared commits by itself and holds each answer
   * until its write is durable (the output gate), so no answer is given for a lost write.
   * Measured on the local stack, one call per request with no gathering wait served 73%
   * of /healthz's throughput, against 68% for requests batched in the Worker (no wait)
   * and 57% with a 1 ms gathering wait: on these loads every timer is latency.
   *
   * @example
   * tally.addReports([{ id: 'r1…', value: 2 }]) // { accepted: 1, duplicates: 0, replayedIds: [] }
   */
  addReports(reports: { id: string; value: number }[]): AddReportsResult {
    if (this.released()) throw new Error('this period is released: it takes no more reports');
    return this.ctx.storage.transactionSync(() => this.insert(reports));
  }

  private insert(reports: { id: string; value: number }[]): AddReportsResult {
    const replayedIds: string[] = [];
    for (const r of reports) {
      const cursor = this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_REPORTS} (id, value) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`, r.id, r.value);
      if (cursor.rowsWritten === 0) replayedIds.push(r.id);
    }
    return { accepted: reports.length - replayedIds.length, duplicates: replayedIds.length, replayedIds };
  }

  /**
   * Raw counts per reported value, for values 0..k−1.
   *
   * @example
   * await tally.counts(4) // [120, 30, 25, 25]
   */
  counts(k: number): number[] {
    const counts = new Array<number>(k).fill(0);
    for (const row of this.ctx.storage.sql.exec<{ value: number; n: number }>(`SELECT value, COUNT(*) AS n FROM ${TABLE_REPORTS} GROUP BY value`)) {
      if (row.value >= 0 && row.value < k) counts[row.value] = row.n;
    }
    return counts;
  }

  /**
   * Number of reports received (no per-segment information): for operators watching ingestion.
   *
   * @example
   * await tally.reportCount() // 1234
   */
  reportCount(): number {
    return this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE_REPORTS}`).toArray()[0]?.n ?? 0;
  }

  /**
   * True once the period's release was computed: it takes no more reports.
   *
   * @example
   * if (await tally.isReleased()) refuse();
   */
  isReleased(): boolean {
    return this.released() !== null;
  }

  /**
   * The stored release, read from storage once per instance: only `release()` below ever
   * writes it, in this same single instance, so the copy in memory cannot go stale, and
   * each batch of reports no longer pays a SELECT and a JSON parse to learn the period is open.
   */
  private released(): TallySummary | null {
    if (this.storedRelease === undefined) {
      const row = this.ctx.storage.sql.exec<{ summary: string }>(`SELECT summary FROM ${TABLE_RELEASE} WHERE id = 1`).toArray()[0];
      this.storedRelease = row ? (JSON.parse(row.summary) as TallySummary) : null;
    }
    return this.storedRelease;
  }

  /**
   * The period's release: computed once (the caller asks only after the period stopped
   * taking reports), stored, and the same numbers on every later call.
   *
   * @example
   * const summary = await tally.release({ k: 4, epsilon: 2, kThreshold: 50, labels });
   */
  release(input: { k: number; epsilon: number; kThreshold: number; labels: readonly string[] }): TallySummary {
    const stored = this.released();
    if (stored) return stored;
    const summary = summariseTally({ counts: this.counts(input.k), epsilon: input.epsilon, kThreshold: input.kThreshold, labels: input.labels });
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELEASE} (id, summary) VALUES (1, ?)`, JSON.stringify(summary));
    this.storedRelease = summary;
    return summary;
  }
}
