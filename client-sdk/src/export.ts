/**
 * `exportData()`: everything the SDK keeps on this device, read in one transaction and
 * laid out for a person to read (the feature vector by name, ε spent per purpose and per
 * window: 30 days per purpose, 30 and 365 days in total).
 */
import { FEATURE_NAMES_V1, featureVector, type FeatureState } from '@edgeseg/shared';
import type { EdgesegExport, SegmentInfo } from './api.ts';
import type { ConsentState } from './consent.ts';
import type { Budget } from './budget.ts';
import { spentByWindow } from './ledger.ts';
import type { KvValues, LedgerEntry, Store } from './store.ts';

/** What the segmenter holds in memory that the export shows beside the stored rows. */
export interface InMemoryState {
  appId: string | null;
  choice: ConsentState;
  effective: ConsentState;
  gpc: boolean;
  features: FeatureState;
  segment: SegmentInfo | null;
  caps: Budget;
  modelVersion: number | null;
}

/**
 * Reads every store and returns the export at `now`.
 *
 * @example
 * const data = await readExport(db, { appId, choice, effective, gpc, features, segment, caps, modelVersion: 3 }, Date.now());
 */
export async function readExport(db: Store, s: InMemoryState, now: number): Promise<EdgesegExport> {
  const tx = db.transaction(['events', 'segmentHistory', 'consentLog', 'ledger', 'outbox', 'kv']);
  const kv = tx.objectStore('kv');
  const [events, segmentHistory, consentLog, entries, outbox, lastSent, shown, memo] = await Promise.all([
    tx.objectStore('events').index('at').getAll(),
    tx.objectStore('segmentHistory').getAll(),
    tx.objectStore('consentLog').getAll(),
    tx.objectStore('ledger').getAll(),
    tx.objectStore('outbox').getAll(),
    kv.get('lastSent') as Promise<KvValues['lastSent'] | undefined>,
    kv.get('shown') as Promise<KvValues['shown'] | undefined>,
    kv.get('grrMemo') as Promise<KvValues['grrMemo'] | undefined>,
  ]);
  const spent = spentByWindow(entries, now);
  const raw = featureVector(s.features, now);
  // A loop, not Object.fromEntries: 2020 TV browsers (Chromium 68) lack it.
  const vector: Record<string, number> = {};
  if (raw) FEATURE_NAMES_V1.forEach((name, i) => (vector[name] = raw[i] as number));
  return {
    format: 'edgeseg-export/1',
    exportedAt: new Date(now).toISOString(),
    appId: s.appId,
    consent: { choice: s.choice, effective: s.effective, globalPrivacyControl: s.gpc },
    events,
    features: { state: s.features, vector: raw ? vector : null },
    segment: s.segment,
    segmentHistory,
    consentLog,
    privacyLedger: {
      entries,
      spentLast30Days: { measurement: spent.measurement_30d, model_improvement: spent.model_improvement_30d },
      spent,
      cap: { ...s.caps },
    },
    outbox,
    campaignsShown: shown || {},
    lastSent: lastSent || {},
    randomizedAnswers: memo || {},
    model: s.modelVersion === null ? null : { version: s.modelVersion },
  };
}
