/**
 * The on-device store (IndexedDB through idb): the event log, key-value state and the
 * outbox of payloads waiting to leave. Everything the SDK keeps is here, so export and
 * erase have one place to look.
 */
import type { FeatureState, PlaybackEvent, SegmentReport } from '@edgeseg/shared';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ConsentState } from './consent.ts';

export const DB_NAME = 'edgeseg';
const DB_VERSION = 1;

/** A verified model as cached on the device. */
export interface CachedModel {
  jws: string;
  etag: string | null;
  version: number;
}

/** A payload waiting to be sent, tagged with the purpose that allows it. */
export interface OutboxItem {
  id: string;
  purpose: 'measurement';
  report: SegmentReport;
  createdAt: number;
}

/** Values of the `kv` store, by key. */
export interface KvValues {
  features: FeatureState;
  consent: ConsentState;
  model: CachedModel;
  /** The last period a report was created for. */
  reportedPeriod: string;
}

export interface EdgesegDB extends DBSchema {
  events: { key: number; value: PlaybackEvent & { at: number } };
  kv: { key: keyof KvValues; value: KvValues[keyof KvValues] };
  outbox: { key: string; value: OutboxItem };
}

export type StoreNames = 'events' | 'kv' | 'outbox';
export type Store = IDBPDatabase<EdgesegDB>;

/**
 * Opens (and on first use creates) the edgeseg database.
 *
 * @example
 * const db = await openStore();
 */
export function openStore(name: string = DB_NAME): Promise<Store> {
  return openDB<EdgesegDB>(name, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('events', { autoIncrement: true });
      db.createObjectStore('kv');
      db.createObjectStore('outbox', { keyPath: 'id' });
    },
  });
}

/**
 * Reads one typed value from the key-value store.
 *
 * @example
 * const consent = await readKv(db, 'consent');
 */
export async function readKv<K extends keyof KvValues>(db: Store, key: K): Promise<KvValues[K] | undefined> {
  return (await db.get('kv', key)) as KvValues[K] | undefined;
}
