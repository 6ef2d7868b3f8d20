/** SegmentTally stores the randomized segment reports of one (model version, period): report id → reported value, and the period's one release. */
import { DurableObject } from 'cloudflare:workers';
import { GroupCommit } from './group-commit.ts';
import { summariseTally, type TallySummary } from './tally.ts';

const TABLE_REPORTS = 'reports';
const TABLE_RELEASE = 'release';

/** The answer to `addReports`: how many were new and how many were replays of stored ids. */
export interface AddReportsResult {
  accepted: number;
  duplicates: number;
}

/**
 * One instance per (model version, period), named `${modelVersion}:${period}`, so a
 * period's reports are counted in one place and idempotency ids are checked there.
 */
export class SegmentTally extends DurableObject<unknown> {
  private readonly commits: GroupCommit<{ id: string; value: number }, AddReportsResult>;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.commits = new GroupCommit(ctx.storage, (reports) => this.insert(reports));
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_REPORTS} (id TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELEASE} (id INTEGER PRIMARY KEY CHECK (id = 1), summary TEXT NOT NULL)`);
  }

  /**
   * Stores reports whose ids are new; replayed ids change nothing. Concurrent batches
   * share one transaction (group commit), and the answer waits for it.
   *
   * @example
   * await tally.addReports([{ id: 'r1…', value: 2 }]) // { accepted: 1, duplicates: 0 }
   */
  addReports(reports: { id: string; value: number }[]): Promise<AddReportsResult> {
    if (this.released()) return Promise.reject(new Error('this period is released: it takes no more reports'));
    return this.commits.submit(reports);
  }

  /**
   * `addReports` for several requests at once (worker/src/tally-batcher.ts), committed
   * in one transaction right away (with anything else queued): the Worker already waited
   * to gather the batch, and a second wait here only adds latency (a 2 ms timer costs
   * about 4 ms under workerd, measured). Each request gets its own answer, in order, so
   * an id sent twice in one call is accepted for the first request and a duplicate for
   * the later one.
   *
   * @example
   * await tally.addReportBatches([[{ id: 'a', value: 1 }], [{ id: 'a', value: 1 }]]) // [{ accepted: 1, duplicates: 0 }, { accepted: 0, duplicates: 1 }]
   */
  addReportBatches(batches: { id: string; value: number }[][]): Promise<AddReportsResult[]> {
    if (this.released()) return Promise.reject(new Error('this period is released: it takes no more reports'));
    const answers = Promise.all(batches.map((reports) => this.commits.submit(reports)));
    this.commits.flush();
    return answers;
  }

  private insert(reports: { id: string; value: number }[]): AddReportsResult {
    let accepted = 0;
    for (const r of reports) {
      const cursor = this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_REPORTS} (id, value) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`, r.id, r.value);
      accepted += cursor.rowsWritten > 0 ? 1 : 0;
    }
    return { accepted, duplicates: reports.length - accepted };
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

  private released(): TallySummary | null {
    const row = this.ctx.storage.sql.exec<{ summary: string }>(`SELECT summary FROM ${TABLE_RELEASE} WHERE id = 1`).toArray()[0];
    return row ? (JSON.parse(row.summary) as TallySummary) : null;
  }

  /**
   * The period's release: computed once (the caller asks only after the period stopped
   * taking reports), stored, and the same numbers on every later call.
   *
   * @example
   * const summary = await tally.release({ k: 4, epsilon: 2, kThreshold: 50, labels });
   */
  release(input: { k: number; epsilon: number; kThreshold: number; labels: readonly string[] }): TallySummary {
    this.commits.flush(); // reports answered before the release are in it
    const stored = this.released();
    if (stored) return stored;
    const summary = summariseTally({ counts: this.counts(input.k), epsilon: input.epsilon, kThreshold: input.kThreshold, labels: input.labels });
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELEASE} (id, summary) VALUES (1, ?)`, JSON.stringify(summary));
    return summary;
  }
}
