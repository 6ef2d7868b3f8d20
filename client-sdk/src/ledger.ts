/**
 * The on-device privacy ledger: ε spent per purpose over a sliding 30-day window, and
 * the check that stops a release at the cap.
 */
import type { LedgerEntry } from './store.ts';

export const LEDGER_WINDOW_MS = 30 * 86_400_000;

/**
 * ε spent for `purpose` in the 30 days before `nowMs`.
 *
 * @example
 * epsilonSpent(entries, 'measurement', Date.now()) // 4
 */
export function epsilonSpent(entries: readonly LedgerEntry[], purpose: LedgerEntry['purpose'], nowMs: number): number {
  let spent = 0;
  for (const e of entries) if (e.purpose === purpose && e.at > nowMs - LEDGER_WINDOW_MS && e.at <= nowMs) spent += e.epsilon;
  return spent;
}

/**
 * True when spending `epsilon` more now keeps `purpose` within `cap` for the window.
 *
 * @example
 * withinBudget(entries, 'measurement', 2, 10, Date.now())
 */
export function withinBudget(entries: readonly LedgerEntry[], purpose: LedgerEntry['purpose'], epsilon: number, cap: number, nowMs: number): boolean {
  return epsilonSpent(entries, purpose, nowMs) + epsilon <= cap + 1e-9;
}
