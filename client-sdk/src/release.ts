/**
 * Releases: everything that leaves the device is queued here, at most once per period
 * or round, and charged to the privacy ledger in the same IndexedDB transaction as the
 * outbox write, so two tabs can never release the same thing twice or overspend.
 */
import type { IDBPTransaction } from 'idb';
import { withinBudget } from './ledger.ts';
import { recallGrr, type GrrMemoKey } from './release/grr-memo.ts';
import type { EdgesegDB, GrrMemo, KvValues, LedgerEntry, OutboxItem, Store } from './store.ts';

/** The `kv` keys that remember what was released last (a period or a round id). */
export type Mark = 'reportedPeriod' | 'impressionPeriod' | 'lifecyclePeriod' | 'contributedRound' | 'countedPeriod';

/** One thing to release once: the outbox item, what it spends, and the mark that makes it once-only. */
export interface Release {
  mark: Mark;
  /** The period or round id stored under `mark` once released. */
  value: string;
  epsilon: number;
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

/** Why a release was not queued: `value` was already released under its mark, or its ε would pass the 30-day cap. */
export type NotQueued = 'already released' | 'over the 30-day ε cap';

/**
 * Null when `value` is not yet released under `mark` and `epsilon` more keeps `purpose`
 * within `cap` over the ledger's 30-day window, read inside `tx`; else why not.
 *
 * @example
 * if (!(await unfit(db.transaction(['kv', 'ledger']), 'contributedRound', round.round_id, 'model_improvement', 1, 10, Date.now()))) loadChunk();
 */
export async function unfit(tx: ReleaseTx, mark: Mark, value: string, purpose: LedgerEntry['purpose'], epsilon: number, cap: number, now: number): Promise<NotQueued | null> {
  if ((await tx.objectStore('kv').get(mark)) === (value as KvValues[Mark])) return 'already released';
  return withinBudget(await tx.objectStore('ledger').getAll(), purpose, epsilon, cap, now) ? null : 'over the 30-day ε cap';
}

/**
 * Queues each release's item unless it is {@link unfit}, in order: the checks and the
 * writes (mark, ledger entry, outbox item) share one readwrite transaction, which
 * browsers serialise across tabs, so releases queued together also leave together and a
 * later one is checked against the budget the earlier ones spent. Resolves with, per
 * release, null when queued or why not.
 *
 * @example
 * const outcome = await queueOnce(db, [{ mark: 'reportedPeriod', value: period, epsilon: 1, label: `report ${period}`, item }], { measurement: 10, model_improvement: 10 }, Date.now());
 * if (outcome.includes(null)) await sender.deliver();
 */
export async function queueOnce(db: Store, releases: readonly Release[], caps: Record<LedgerEntry['purpose'], number>, now: number): Promise<(NotQueued | null)[]> {
  const tx = db.transaction(['kv', 'ledger', 'outbox'], 'readwrite');
  const kv = tx.objectStore('kv');
  const outcome: (NotQueued | null)[] = [];
  let memo: GrrMemo | undefined;
  for (const r of releases) {
    const { purpose } = r.item;
    const why = await unfit(tx, r.mark, r.value, purpose, r.epsilon, caps[purpose], now);
    outcome.push(why);
    if (why) continue;
    if (r.grr) {
      memo = memo || ((await kv.get('grrMemo')) as GrrMemo | undefined) || {};
      const shown = r.item.report || r.item.impression;
      if (shown) shown.value = recallGrr(memo, r.grr);
    }
    await Promise.all([kv.put(r.value, r.mark), tx.objectStore('ledger').add({ at: now, purpose, epsilon: r.epsilon, release: r.label }), tx.objectStore('outbox').put(r.item)]);
  }
  if (memo) await kv.put(memo, 'grrMemo');
  await tx.done;
  return outcome;
}
