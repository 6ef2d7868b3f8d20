/**
 * Releases: everything that leaves the device is queued here, at most once per period
 * or round, and charged to the privacy ledger in the same IndexedDB transaction as the
 * outbox write, so two tabs can never release the same thing twice or overspend. A
 * randomized (GRR) report is charged only when its answer is newly drawn: re-sending a
 * memoised answer reveals nothing the first draw did not (release/grr-memo.ts).
 */
import type { IDBPTransaction } from 'idb';
import type { Budget } from './budget.ts';
import { overBudget, rhoOfPure, type Cost, type OverBudget } from './ledger.ts';
import { grrMemoId, recallGrr, type GrrMemoKey } from './release/grr-memo.ts';
import type { EdgesegDB, GrrMemo, KvValues, LedgerEntry, OutboxItem, Store } from './store.ts';

/** The `kv` keys that remember what was released last (a period or a round id). */
export type Mark = 'reportedPeriod' | 'impressionPeriod' | 'lifecyclePeriod' | 'contributedRound' | 'countedPeriod' | 'lifecycleCountedPeriod' | 'impressionCountedPeriod';

/** One thing to release once: the outbox item, what it spends, and the mark that makes it once-only. */
export interface Release {
  mark: Mark;
  /** The period or round id stored under `mark` once released. */
  value: string;
  /** ε it spends (for `grr`, when its answer is newly drawn; nothing otherwise). */
  epsilon: number;
  /** zCDP ρ it spends; default ε²/2 (pure ε-DP, as randomized response is). */
  rho?: number;
  /** The ledger's words for it, e.g. "report 2026-W48". */
  label: string;
  item: OutboxItem;
  /**
   * A randomized (GRR) report: its value is the memoised answer for this key
   * (release/grr-memo.ts), drawn in the queueing transaction and only when the release is
   * queued, and written as the `value` of the item's report or impression.
   */
  grr?: GrrMemoKey;
}

type ReleaseTx = IDBPTransaction<EdgesegDB, ['kv', 'ledger', ...'outbox'[]], IDBTransactionMode>;

/** Why a release was not queued: `value` was already released under its mark, or its cost would pass a cap. */
export type NotQueued = 'already released' | OverBudget;

/**
 * Null when `value` is not yet released under `mark` and spending `cost` more keeps
 * `purpose` within `budget` (30-day cap per purpose, 365-day total), read inside `tx`;
 * else why not.
 *
 * @example
 * if (!(await unfit(db.transaction(['kv', 'ledger']), 'contributedRound', round.round_id, 'model_improvement', { epsilon: 1, rho: 0.0136 }, DEFAULT_BUDGET, Date.now()))) loadChunk();
 */
export async function unfit(tx: ReleaseTx, mark: Mark, value: string, purpose: LedgerEntry['purpose'], cost: Cost, budget: Budget, now: number): Promise<NotQueued | null> {
  if ((await tx.objectStore('kv').get(mark)) === (value as KvValues[Mark])) return 'already released';
  return overBudget(await tx.objectStore('ledger').getAll(), purpose, cost, budget, now);
}

/**
 * Queues each release's item unless it is {@link unfit}, in order: the checks and the
 * writes (mark, ledger entry, outbox item) share one readwrite transaction, which
 * browsers serialise across tabs, so releases queued together also leave together and a
 * later one is checked against the budget the earlier ones spent. A GRR release whose
 * answer is already memoised costs 0 (its ledger entry says so). Resolves with, per
 * release, null when queued or why not.
 *
 * @example
 * const outcome = await queueOnce(db, [{ mark: 'reportedPeriod', value: period, epsilon: 0.2, label: `report ${period}`, item, grr }], DEFAULT_BUDGET, Date.now());
 * if (outcome.includes(null)) await sender.deliver();
 */
export async function queueOnce(db: Store, releases: readonly Release[], budget: Budget, now: number): Promise<(NotQueued | null)[]> {
  const tx = db.transaction(['kv', 'ledger', 'outbox'], 'readwrite');
  const kv = tx.objectStore('kv');
  const outcome: (NotQueued | null)[] = [];
  let memo: GrrMemo | undefined;
  let drew = false;
  for (const r of releases) {
    const { purpose } = r.item;
    if (r.grr) memo = memo || ((await kv.get('grrMemo')) as GrrMemo | undefined) || {};
    const memoised = !!(r.grr && memo && memo[grrMemoId(r.grr)] !== undefined);
    const cost: Cost = memoised ? { epsilon: 0, rho: 0 } : { epsilon: r.epsilon, rho: r.rho === undefined ? rhoOfPure(r.epsilon) : r.rho };
    const why = await unfit(tx, r.mark, r.value, purpose, cost, budget, now);
    outcome.push(why);
    if (why) continue;
    if (r.grr && memo) {
      const shown = r.item.report || r.item.impression;
      if (shown) shown.value = recallGrr(memo, r.grr);
      drew = drew || !memoised;
    }
    const entry: LedgerEntry = { at: now, purpose, epsilon: cost.epsilon, rho: cost.rho, release: memoised ? `${r.label} (memoised answer re-sent: no new ε)` : r.label };
    await Promise.all([kv.put(r.value, r.mark), tx.objectStore('ledger').add(entry), tx.objectStore('outbox').put(r.item)]);
  }
  if (memo && drew) await kv.put(memo, 'grrMemo');
  await tx.done;
  return outcome;
}
