/**
 * `eraseData()` on the store: everything the viewer's data is made of goes (events,
 * features, segment history, consent log, outbox, campaigns shown, memoised randomized
 * answers), but spent ε stays as a floor. The ledger keeps, for the last 365 days (the
 * longest budget window), when and how much (ε and ρ) each purpose spent, with what was
 * released replaced by "erased", and the marks of what was released stay, so erasing can
 * never reset the privacy budget or release the same week twice.
 */
import type { KvValues, LedgerEntry, Store } from './store.ts';

/** The `kv` keys that survive erase: what was released, never what the viewer did. */
const RELEASE_MARKS: readonly (keyof KvValues)[] = ['reportedPeriod', 'lifecyclePeriod', 'impressionPeriod', 'countedPeriod', 'lifecycleCountedPeriod', 'impressionCountedPeriod', 'contributedRound', 'model'];

const FLOOR_WINDOW_MS = 365 * 86_400_000;

/**
 * Erases the store in one transaction, keeping the ε floor; resolves once committed.
 *
 * @example
 * await eraseStore(db, Date.now());
 */
export async function eraseStore(db: Store, nowMs: number): Promise<void> {
  const tx = db.transaction(['events', 'kv', 'outbox', 'ledger', 'consentLog', 'segmentHistory'], 'readwrite');
  const ledger = tx.objectStore('ledger');
  const kv = tx.objectStore('kv');
  const floor: LedgerEntry[] = (await ledger.getAll()).filter((e) => e.at > nowMs - FLOOR_WINDOW_MS).map(({ at, purpose, epsilon, rho }) => ({ at, purpose, epsilon, ...(rho === undefined ? {} : { rho }), release: 'erased' }));
  const keys = (await kv.getAllKeys()).filter((k) => RELEASE_MARKS.indexOf(k) < 0);
  await Promise.all([
    ...(['events', 'outbox', 'consentLog', 'segmentHistory'] as const).map((name) => tx.objectStore(name).clear()),
    ...keys.map((k) => kv.delete(k)),
    ledger.clear().then(() => Promise.all(floor.map((e) => ledger.add(e)))),
    tx.done,
  ]);
}
