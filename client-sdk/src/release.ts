/**
 * Releases: everything that leaves the device is queued here, at most once per period
 * or round, and charged to the privacy ledger in the same IndexedDB transaction as the
 * outbox write, so two tabs can never release the same thing twice or overspend.
 */
import type { IDBPTransaction } from 'idb';
import { withinBudget } from './ledger.ts';
import type { EdgesegDB, KvValues, LedgerEntry, OutboxItem, Store } from './store.ts';

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
}

type ReleaseTx = IDBPTransaction<EdgesegDB, ['kv', 'ledger', ...'outbox'[]], IDBTransactionMode>;

/**
 * True when `value` is not yet released under `mark` and `epsilon` more keeps `purpose`
 * within `cap` over the ledger's 30-day window, read inside `tx`.
 *
 * @example
 * if (await fits(db.transaction(['kv', 'ledger']), 'contributedRound', round.round_id, 'model_improvement', 1, 10, Date.now())) loadChunk();
 */
export async function fits(tx: ReleaseTx, mark: Mark, value: string, purpose: LedgerEntry['purpose'], epsilon: number, cap: number, now: number): Promise<boolean> {
  return (await tx.objectStore('kv').get(mark)) !== (value as KvValues[Mark]) && withinBudget(await tx.objectStore('ledger').getAll(), purpose, epsilon, cap, now);
}

/**
 * Queues each release's item unless it does not {@link fits}, in order: the checks and
 * the writes (mark, ledger entry, outbox item) share one readwrite transaction, which
 * browsers serialise across tabs, so releases queued together also leave together and a
 * later one is checked against the budget the earlier ones spent. Resolves with whether
 * any was queued.
 *
 * @example
 * if (await queueOnce(db, [{ mark: 'reportedPeriod', value: period, epsilon: 1, label: `report ${period}`, item }], { measurement: 10, model_improvement: 10 }, Date.now())) await sender.deliver();
 */
export async function queueOnce(db: Store, releases: readonly Release[], caps: Record<LedgerEntry['purpose'], number>, now: number): Promise<boolean> {
  const tx = db.transaction(['kv', 'ledger', 'outbox'], 'readwrite');
  let queued = false;
  for (const r of releases) {
    const { purpose } = r.item;
    if (!(await fits(tx, r.mark, r.value, purpose, r.epsilon, caps[purpose], now))) continue;
    await Promise.all([tx.objectStore('kv').put(r.value, r.mark), tx.objectStore('ledger').add({ at: now, purpose, epsilon: r.epsilon, release: r.label }), tx.objectStore('outbox').put(r.item)]);
    queued = true;
  }
  await tx.done;
  return queued;
}
