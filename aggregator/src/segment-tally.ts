/** SegmentTally stores the randomized segment reports of one (model version, period): report id → reported value. */
import { DurableObject } from 'cloudflare:workers';

const TABLE_REPORTS = 'reports';

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
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_REPORTS} (id TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
  }

  /**
   * Stores reports whose ids are new, in one transaction; replayed ids change nothing.
   *
   * @example
   * await tally.addReports([{ id: 'r1…', value: 2 }]) // { accepted: 1, duplicates: 0 }
   */
  addReports(reports: { id: string; value: number }[]): AddReportsResult {
    let accepted = 0;
    this.ctx.storage.transactionSync(() => {
      for (const r of reports) {
        const cursor = this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_REPORTS} (id, value) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`, r.id, r.value);
        accepted += cursor.rowsWritten > 0 ? 1 : 0;
      }
    });
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
}
