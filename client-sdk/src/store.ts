/**
 * The on-device store (IndexedDB through idb). Everything the SDK keeps is here, so
 * export, erase and retention each have one place to look.
 */
import type { FeatureState, ImpressionReport, LifecycleStage, LocalContribution, ModelManifest, PlaybackEvent, SecureContribution, SegmentReport } from '@edgeseg/shared';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ConsentState, Purpose } from './consent.ts';

export const DB_NAME = 'edgeseg';
const DB_VERSION = 2;

/** An event as stored: `at` is always set. */
export type StoredEvent = PlaybackEvent & { at: number };

/**
 * A verified model as cached on the device: the JWS as served, and the manifest it
 * carries, stored once verified so that a later start uses it without verifying again
 * (whoever could rewrite this origin's IndexedDB could rewrite the SDK too).
 */
export interface CachedModel {
  jws: string;
  version: number;
  /** Absent in caches written before the manifest was kept: such a cache is fetched again. */
  manifest?: ModelManifest;
}

/** A model that passed every check, ready to use and to cache. */
export interface VerifiedModel {
  manifest: ModelManifest;
  cached: CachedModel;
}

/** A round contribution as uploaded: sealed shares (secure mode) or a locally noised vector (local mode). */
export type RoundContribution = SecureContribution | LocalContribution;

/**
 * A payload waiting to be sent, tagged with the purpose that allows it: a randomized
 * segment report or weekly impression report (measurement), or a round contribution
 * (model_improvement for k-means rounds, measurement for counts rounds).
 */
export type OutboxItem = { id: string; createdAt: number } & (
  | { purpose: 'measurement'; report: SegmentReport; impression?: undefined; contribution?: undefined }
  | { purpose: 'measurement'; impression: ImpressionReport; report?: undefined; contribution?: undefined }
  | { purpose: LedgerEntry['purpose']; contribution: RoundContribution; report?: undefined; impression?: undefined }
);

/** One entry of the on-device privacy ledger: ε spent for a purpose. */
export interface LedgerEntry {
  at: number;
  purpose: Exclude<Purpose, 'personalization'>;
  epsilon: number;
  /**
   * zCDP ρ charged (ε²/2 for randomized response; the calibrated ρ for a discrete Gaussian
   * round). Absent in entries of older SDK versions, which count as ε²/2 (ledger.ts).
   */
  rho?: number;
  /** What was released, e.g. "report 2026-W48". */
  release: string;
}

/** One consent change, as the viewer made it. */
export interface ConsentLogEntry {
  at: number;
  choice: ConsentState;
  /** Whether Global Privacy Control was on at the time. */
  gpc: boolean;
}

/** One change of the on-device segment. */
export interface SegmentHistoryEntry {
  at: number;
  id: number | null;
  label: string | null;
  lifecycle: LifecycleStage | null;
  modelVersion: number | null;
}

/** The exact last payload of one purpose that the server accepted (2xx), as `exportData()` shows it. */
export interface SentPayload {
  at: number;
  url: string;
  /** The JSON body as sent. */
  body: unknown;
}

/**
 * Memoised randomized-response answers (release/grr-memo.ts), by report kind, model
 * version, k, ε and true value: the device's one draw for each, sent every week.
 */
export type GrrMemo = Record<string, number>;

/** Values of the `kv` store, by key. */
export interface KvValues {
  features: FeatureState;
  consent: ConsentState;
  model: CachedModel;
  /** The last period a report was created for. */
  reportedPeriod: string;
  /** The last round this device queued a contribution for (rounds are opened one after another). */
  contributedRound: string;
  /**
   * The last ISO week whose secure counts round this device contributed to (once per
   * week, as the randomized report it replaces, so also at most once per round).
   */
  countedPeriod: string;
  /** The last ISO week whose secure lifecycle-stage counts round this device contributed to (instead of the randomized lifecycle report). */
  lifecycleCountedPeriod: string;
  /** The last finished ISO week whose secure impression counts round this device contributed to (instead of the randomized impression report). */
  impressionCountedPeriod: string;
  /** The last ISO week an impression report was created for (each week's report goes out the week after). */
  impressionPeriod: string;
  /** The last ISO week a lifecycle report was created for (one a week, beside the segment report). */
  lifecyclePeriod: string;
  /** Campaign ids the app showed, per ISO week (this week and last week are kept). */
  shown: Record<string, string[]>;
  /** Per purpose, the last payload that left the device. */
  lastSent: Partial<Record<LedgerEntry['purpose'], SentPayload>>;
  /** The randomized answers drawn once and sent every week (erased with the viewer's data). */
  grrMemo: GrrMemo;
}

/** The typed schema: what each object store holds, its keys and its indexes. */
export interface EdgesegDB extends DBSchema {
  events: { key: number; value: StoredEvent; indexes: { at: number } };
  kv: { key: keyof KvValues; value: KvValues[keyof KvValues] };
  outbox: { key: string; value: OutboxItem };
  ledger: { key: number; value: LedgerEntry };
  consentLog: { key: number; value: ConsentLogEntry };
  segmentHistory: { key: number; value: SegmentHistoryEntry; indexes: { at: number } };
}

/**
 * The database, through transactions only: the build drops idb's database shortcut
 * methods (`db.get`, `db.put`, …) to keep the core small, so the type leaves them out too.
 */
export type Store = Pick<IDBPDatabase<EdgesegDB>, 'transaction' | 'close'>;

/** Every object store, for export and erase. */
export const STORE_NAMES = ['events', 'kv', 'outbox', 'ledger', 'consentLog', 'segmentHistory'] as const;

/**
 * Opens (and creates or upgrades) the edgeseg database.
 *
 * @example
 * const db = await openStore();
 */
export function openStore(name: string = DB_NAME): Promise<Store> {
  return openDB<EdgesegDB>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        db.createObjectStore('events', { autoIncrement: true });
        db.createObjectStore('kv');
        db.createObjectStore('outbox', { keyPath: 'id' });
      }
      if (oldVersion < 2) {
        tx.objectStore('events').createIndex('at', 'at');
        db.createObjectStore('ledger', { autoIncrement: true });
        db.createObjectStore('consentLog', { autoIncrement: true });
        db.createObjectStore('segmentHistory', { autoIncrement: true }).createIndex('at', 'at');
      }
    },
  });
}

/**
 * Reads one typed value from the key-value store.
 *
 * @example
 * const consent = await readKv(db, 'consent');
 */
export function readKv<K extends keyof KvValues>(db: Store, key: K): Promise<KvValues[K] | undefined> {
  return db.transaction('kv').store.get(key) as Promise<KvValues[K] | undefined>;
}

/**
 * Writes one typed value to the key-value store; resolves once committed.
 *
 * @example
 * await writeKv(db, 'consent', choice);
 */
export async function writeKv<K extends keyof KvValues>(db: Store, key: K, value: KvValues[K]): Promise<void> {
  const tx = db.transaction('kv', 'readwrite');
  await Promise.all([tx.store.put(value, key), tx.done]);
}

/**
 * Deletes events and segment history older than `cutoffMs` (found through their `at`
 * index), in one transaction.
 *
 * @example
 * await purgeBefore(db, Date.now() - 90 * 86_400_000);
 */
export async function purgeBefore(db: Store, cutoffMs: number): Promise<void> {
  const tx = db.transaction(['events', 'segmentHistory'], 'readwrite');
  const range = IDBKeyRange.upperBound(cutoffMs, true);
  const deletes: Promise<void>[] = [];
  for (const name of ['events', 'segmentHistory'] as const) {
    const s = tx.objectStore(name);
    deletes.push(...(await s.index('at').getAllKeys(range)).map((key) => s.delete(key)));
  }
  await Promise.all([...deletes, tx.done]);
}
