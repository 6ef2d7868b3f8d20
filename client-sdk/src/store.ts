/**
 * The on-device store (IndexedDB, with a few promise helpers instead of a wrapper
 * library). Everything the SDK keeps is here, so export, erase and retention each have
 * one place to look.
 */
import type { FeatureState, LifecycleStage, PlaybackEvent, SecureContribution, SegmentReport } from '@edgeseg/shared';
import type { ConsentState, Purpose } from './consent.ts';

export const DB_NAME = 'edgeseg';
const DB_VERSION = 2;

/** An event as stored: `at` is always set. */
export type StoredEvent = PlaybackEvent & { at: number };

/** A verified model as cached on the device. */
export interface CachedModel {
  jws: string;
  etag: string | null;
  version: number;
}

/**
 * A payload waiting to be sent, tagged with the purpose that allows it: a randomized
 * segment report (measurement) or a sealed round contribution (model_improvement).
 */
export type OutboxItem = { id: string; createdAt: number } & (
  | { purpose: 'measurement'; report: SegmentReport; contribution?: undefined }
  | { purpose: 'model_improvement'; contribution: SecureContribution; report?: undefined }
);

/** One entry of the on-device privacy ledger: ε spent for a purpose. */
export interface LedgerEntry {
  at: number;
  purpose: Exclude<Purpose, 'personalization'>;
  epsilon: number;
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

/** Values of the `kv` store, by key. */
export interface KvValues {
  features: FeatureState;
  consent: ConsentState;
  model: CachedModel;
  /** The last period a report was created for. */
  reportedPeriod: string;
  /** The last round this device queued a contribution for (rounds are opened one after another). */
  contributedRound: string;
}

/** What each object store holds. */
export interface StoreValues {
  events: StoredEvent;
  kv: KvValues[keyof KvValues];
  outbox: OutboxItem;
  ledger: LedgerEntry;
  consentLog: ConsentLogEntry;
  segmentHistory: SegmentHistoryEntry;
}
export type StoreName = keyof StoreValues;

/** An object store typed by what it holds (`kv` keys name their values through {@link readKv}). */
export interface TypedStore<V> extends IDBObjectStore {
  get(key: IDBValidKey): IDBRequest<V | undefined>;
  getAll(): IDBRequest<V[]>;
  put(value: V, key?: IDBValidKey): IDBRequest<IDBValidKey>;
  add(value: V, key?: IDBValidKey): IDBRequest<IDBValidKey>;
}

export type Store = IDBDatabase;

/** Every object store, for export and erase. */
export const STORE_NAMES = ['events', 'kv', 'outbox', 'ledger', 'consentLog', 'segmentHistory'] as const;

/**
 * Resolves with what an IndexedDB request yields, or rejects with its error. Awaiting it
 * keeps a transaction alive (the continuation runs in the success event's microtasks).
 *
 * @example
 * const entries = await req(store(tx, 'ledger').getAll());
 */
export function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Resolves once `tx` has committed; rejects when it failed or was aborted.
 *
 * @example
 * const tx = db.transaction('kv', 'readwrite'); store(tx, 'kv').put(features, 'features'); await done(tx);
 */
export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
  });
}

/**
 * The object store `name` of `tx`, typed by what it holds.
 *
 * @example
 * const ledger = store(tx, 'ledger');
 */
export function store<N extends StoreName>(tx: IDBTransaction, name: N): TypedStore<StoreValues[N]> {
  return tx.objectStore(name) as TypedStore<StoreValues[N]>;
}

/**
 * One request in a transaction of its own; resolves with its result once that
 * transaction has committed (so a write is durable when it resolves).
 *
 * @example
 * const queued = await single(db, 'outbox', 'readonly', (s) => s.getAll());
 */
export async function single<N extends StoreName, T>(db: Store, name: N, mode: IDBTransactionMode, op: (s: TypedStore<StoreValues[N]>) => IDBRequest<T>): Promise<T> {
  const tx = db.transaction(name, mode);
  const [result] = await Promise.all([req(op(store(tx, name))), done(tx)]);
  return result;
}

/**
 * Opens (and creates or upgrades) the edgeseg database.
 *
 * @example
 * const db = await openStore();
 */
export function openStore(name: string = DB_NAME): Promise<Store> {
  const open = indexedDB.open(name, DB_VERSION);
  open.onupgradeneeded = ({ oldVersion }) => {
    const db = open.result;
    if (oldVersion < 1) {
      db.createObjectStore('events', { autoIncrement: true });
      db.createObjectStore('kv');
      db.createObjectStore('outbox', { keyPath: 'id' });
    }
    if (oldVersion < 2) {
      (open.transaction as IDBTransaction).objectStore('events').createIndex('at', 'at');
      db.createObjectStore('ledger', { autoIncrement: true });
      db.createObjectStore('consentLog', { autoIncrement: true });
      db.createObjectStore('segmentHistory', { autoIncrement: true }).createIndex('at', 'at');
    }
  };
  return req(open);
}

/**
 * Reads one typed value from the key-value store.
 *
 * @example
 * const consent = await readKv(db, 'consent');
 */
export function readKv<K extends keyof KvValues>(db: Store, key: K): Promise<KvValues[K] | undefined> {
  return single(db, 'kv', 'readonly', (s) => s.get(key)) as Promise<KvValues[K] | undefined>;
}

/**
 * Deletes events and segment history older than `cutoffMs`, in one transaction.
 *
 * @example
 * await purgeBefore(db, Date.now() - 90 * 86_400_000);
 */
export async function purgeBefore(db: Store, cutoffMs: number): Promise<void> {
  const tx = db.transaction(['events', 'segmentHistory'], 'readwrite');
  const range = IDBKeyRange.upperBound(cutoffMs, true);
  for (const name of ['events', 'segmentHistory'] as const) {
    const s = store(tx, name);
    for (const key of await req(s.index('at').getAllKeys(range))) s.delete(key);
  }
  await done(tx);
}
