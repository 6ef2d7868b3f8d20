/**
 * The one way a tally release reaches the leader's privacy ledger: every call site of
 * `SegmentTally.release` (segments, lifecycle, impressions) passes its entries here.
 */
import type { Env } from './env.ts';
import { coordinator } from './coordinator.ts';
import type { TallyLedgerEntry } from './tally-ledger.ts';

/**
 * Records the entries (nulls: releases that spent nothing) in the leader's ledger. The
 * first record of a (kind, model version, period) stays, so reading a period again adds nothing.
 *
 * @example
 * await recordTallyReleases(env, [segmentsEntry(3, period, summary, nowS)]);
 */
export async function recordTallyReleases(env: Env, entries: readonly (TallyLedgerEntry | null)[]): Promise<void> {
  const rows = entries.filter((e): e is TallyLedgerEntry => e !== null).map((e) => ({ kind: e.kind, model_version: e.model_version, period: e.period, released_at: e.released_at, entry: JSON.stringify(e) }));
  if (rows.length) await coordinator(env).recordTallyReleases(rows);
}

/**
 * Every recorded tally release, newest first.
 *
 * @example
 * const entries = await tallyReleases(env);
 */
export async function tallyReleases(env: Env): Promise<TallyLedgerEntry[]> {
  const rows = await coordinator(env).tallyReleases();
  return rows.map((r) => JSON.parse(r.entry) as TallyLedgerEntry);
}
