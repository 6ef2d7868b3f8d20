/**
 * createSegmenter: the SDK's one entry point. It returns at once; the store and model
 * load in the background, and calls made before they are ready are queued, never lost
 * and never thrown into the host app.
 */
import {
  assignSegment,
  DAY_MS,
  emptyFeatureState,
  FEATURE_NAMES_V1,
  featureVector,
  flattenCentroids,
  grrEncode,
  isoWeekPeriod,
  lifecycleStage,
  parsePlaybackEvent,
  standardise,
  updateFeatureState,
  type FeatureState,
  type LifecycleStage,
  type ModelManifest,
  type PlaybackEvent,
} from '@edgeseg/shared';
import { DEFAULT_CONSENT, effectiveConsent, globalPrivacyControl, PURPOSES, type ConsentState } from './consent.ts';
import { randomId } from './ids.ts';
import { epsilonSpent, withinBudget } from './ledger.ts';
import { cachedManifest, fetchModel, get, verifyModel, type VerifiedModel } from './model.ts';
import type { PublicJwk } from './jws.ts';
import { createSender } from './sender.ts';
import type { IDBPTransaction } from 'idb';
import {
  DB_NAME,
  openStore,
  purgeBefore,
  readKv,
  STORE_NAMES,
  type ConsentLogEntry,
  type EdgesegDB,
  type LedgerEntry,
  type OutboxItem,
  type SegmentHistoryEntry,
  type Store,
  type StoredEvent,
} from './store.ts';

export interface SegmenterOptions {
  /** Base URL of the edgeseg Worker, e.g. `https://edge.example.com`. */
  endpoint: string;
  /** Your app's id; it namespaces what the SDK stores on the device. */
  appId?: string;
  /** A signed model shipped with the app (used until a newer one is fetched; verified like a fetched one). */
  model?: { jws: string; jwks: { keys: PublicJwk[] } };
  /** Consent before the viewer has chosen. Default: personalization on, measurement and model_improvement off. */
  purposesDefault?: Partial<ConsentState>;
  /** Called once per problem (invalid event, failed model fetch, storage error); never throws into your app. */
  onError?: (error: Error) => void;
  /** Days of events and segment history kept on the device (default 90). */
  retentionDays?: number;
  /** ε the device may spend per purpose in any 30 days (default 10 each). */
  budget?: { measurement?: number; model_improvement?: number };
  /** Where the contribution chunk is loaded from (default `${endpoint}/sdk/contribute.min.js`). */
  contributeUrl?: string;
}

/** The viewer's current segment, computed on the device. */
export interface SegmentInfo {
  id: number;
  label: string;
  lifecycle: LifecycleStage | null;
  modelVersion: number;
  computedAt: number;
}

export interface ConsentApi {
  /** The consent in force (stored choice with Global Privacy Control applied). */
  get(): ConsentState;
  /** Grants or withdraws purposes; withdrawal deletes that purpose's queued payloads at once. */
  set(change: Partial<ConsentState>): Promise<void>;
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(cb: (consent: ConsentState) => void): () => void;
}

/** Everything the SDK keeps on this device, as `exportData()` returns it. */
export interface EdgesegExport {
  format: 'edgeseg-export/1';
  exportedAt: string;
  appId: string | null;
  consent: { choice: ConsentState; effective: ConsentState; globalPrivacyControl: boolean };
  events: StoredEvent[];
  features: { state: FeatureState; vector: Record<string, number> | null };
  segment: SegmentInfo | null;
  segmentHistory: SegmentHistoryEntry[];
  consentLog: ConsentLogEntry[];
  privacyLedger: { entries: LedgerEntry[]; spentLast30Days: Record<LedgerEntry['purpose'], number>; cap: Record<LedgerEntry['purpose'], number> };
  outbox: OutboxItem[];
  model: { version: number } | null;
}

export interface Segmenter {
  /** Resolves when stored state is loaded and the first model fetch has settled. Never rejects. */
  readonly ready: Promise<void>;
  /** Records a playback event. Invalid events go to `onError`; never throws. */
  track(event: PlaybackEvent): void;
  segment(): SegmentInfo | null;
  onSegmentChange(cb: (segment: SegmentInfo | null) => void): () => void;
  readonly consent: ConsentApi;
  /** Everything stored on this device (events, features, segment history, consent log, privacy ledger). */
  exportData(): Promise<EdgesegExport | null>;
  /** Removes everything the SDK stored on this device. */
  eraseData(): Promise<void>;
  /** Writes queued events, finishes a contribution under way and sends queued payloads. Never rejects. */
  flush(): Promise<void>;
  /** Flushes, stops timers and listeners, and closes the store. */
  shutdown(): Promise<void>;
}

const DEFAULT_RETENTION_DAYS = 90;
const DEFAULT_CAP = 10;

/** The lazily loaded chunk (`contribute/index.ts`). */
type ContributeChunk = typeof import('./contribute/index.ts');

/**
 * The fields of a `GET /v1/rounds/current` answer the core compares before importing the
 * chunk, which validates the whole round (until then they are untrusted and only compared).
 */
interface RoundHead {
  round_id: string;
  model_version: number;
  epsilon: number;
  closes_at: number;
}

/** The `kv` keys that remember what was released: the report period, the round. */
type Mark = 'reportedPeriod' | 'contributedRound';

function sameSegment(a: SegmentInfo | null, b: SegmentInfo | null): boolean {
  return a === b || (!!a && !!b && a.id === b.id && a.lifecycle === b.lifecycle && a.modelVersion === b.modelVersion);
}

/**
 * Creates a segmenter. Returns synchronously; all I/O is lazy.
 *
 * @example
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com', appId: 'streambox' });
 * seg.track({ type: 'play', contentId: 'tt01', genres: ['Drama'], durationSec: 3000, positionSec: 0, device: 'tv' });
 * seg.onSegmentChange((s) => console.log(s?.label));
 */
export function createSegmenter(options: SegmenterOptions): Segmenter {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const {
    appId = null,
    retentionDays = DEFAULT_RETENTION_DAYS,
    budget: { measurement = DEFAULT_CAP, model_improvement = DEFAULT_CAP } = {},
    contributeUrl = `${endpoint}/sdk/contribute.min.js`, // a variable, so bundlers leave the import alone
  } = options;
  const dbName = appId ? `${DB_NAME}-${appId}` : DB_NAME;
  const retentionMs = retentionDays * DAY_MS;
  const caps = { measurement, model_improvement };
  const defaults: ConsentState = { ...DEFAULT_CONSENT, ...options.purposesDefault };
  const fail = (err: unknown): void => {
    try {
      if (options.onError) options.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a throwing onError must not break the SDK either
    }
  };

  let db: Store | null = null;
  let loaded = false;
  let features: FeatureState = emptyFeatureState();
  let choice: ConsentState = { ...defaults };
  /** The active model, and its centroids flattened once per model. */
  let model: ModelManifest | null = null;
  let centroids: Float32Array = new Float32Array(0);
  let current: SegmentInfo | null = null;
  let waiting: StoredEvent[] = [];
  let unwritten: StoredEvent[] = [];
  let history: SegmentHistoryEntry[] = [];
  let writeScheduled = false;
  let settleScheduled = false;
  let dailyTimer: ReturnType<typeof setInterval> | undefined;
  /** The open round last fetched, kept until this device has features to contribute. */
  let round: RoundHead | null = null;
  /** Contribution checks run one after another; flush() waits for them. */
  let contributing: Promise<void> = Promise.resolve();
  const segmentListeners = new Set<(s: SegmentInfo | null) => void>();
  const consentListeners = new Set<(c: ConsentState) => void>();

  const consentNow = (): ConsentState => effectiveConsent(choice, globalPrivacyControl());
  // Consent changed in another tab (say, the preference centre) takes effect here at once.
  const consentChannel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`${dbName}:consent`) : null;
  if (consentChannel) {
    consentChannel.onmessage = (msg: MessageEvent<ConsentState>) => {
      choice = { ...defaults, ...msg.data };
      notify(consentListeners, consentNow());
      recompute();
      void maybeReport();
    };
  }
  const sender = createSender({ endpoint, lockName: `${dbName}:send`, store: () => db, allowed: (item) => consentNow()[item.purpose], fail });

  function notify<T>(listeners: Set<(v: T) => void>, value: T): void {
    for (const cb of listeners) {
      try {
        cb(value);
      } catch (err) {
        fail(err);
      }
    }
  }

  function recompute(): void {
    const before = current;
    current = null;
    if (model && consentNow().personalization) {
      const now = Date.now();
      const raw = featureVector(features, now);
      if (raw) {
        const manifest = model;
        const id = assignSegment(standardise(raw, manifest.scaling.mean, manifest.scaling.scale), centroids);
        // parseManifest checked one label per centroid, so labels[id] is there
        current = { id, label: manifest.labels[id] as string, lifecycle: lifecycleStage(features, now, manifest.lifecycle), modelVersion: manifest.version, computedAt: now };
      }
    }
    if (!sameSegment(before, current)) {
      const { id = null, label = null, lifecycle = null, modelVersion = null }: Partial<SegmentHistoryEntry> = current || {};
      history.push({ at: Date.now(), id, label, lifecycle, modelVersion });
      scheduleWrite();
      notify(segmentListeners, current);
    }
  }

  /** Folds events into the features, in the device's current time zone. */
  function fold(events: readonly StoredEvent[]): void {
    const tz = new Date().getTimezoneOffset();
    for (const e of events) updateFeatureState(features, e, tz);
  }

  function apply(events: StoredEvent[]): void {
    if (events.length === 0 || !consentNow().personalization) return;
    fold(events);
    unwritten.push(...events);
    if (!settleScheduled) {
      settleScheduled = true;
      queueMicrotask(settle);
    }
  }

  /**
   * Runs once per burst of track() calls, at the end of the task: the segment, the write
   * and the report check cost the same for one event or a thousand, and track() itself
   * stays a validation plus an O(genres) feature update.
   */
  function settle(): void {
    settleScheduled = false;
    recompute();
    void writeQueued();
    void maybeReport();
    if (round) void contribute(false);
  }

  /**
   * Writes at the end of the current task: a burst of track() calls shares one
   * transaction, and the transaction starts before the task ends, so a reload or tab
   * close right after a click does not lose the click's events (a write started only
   * at pagehide can be aborted with the page).
   */
  function scheduleWrite(): void {
    if (writeScheduled || !loaded) return;
    writeScheduled = true;
    queueMicrotask(writeQueued); // it never rejects
  }

  /** One transaction for every event and segment change queued since the last write, plus the features. */
  async function writeQueued(): Promise<void> {
    writeScheduled = false;
    if (!db || (unwritten.length === 0 && history.length === 0)) return;
    const events = unwritten;
    const changes = history;
    unwritten = [];
    history = [];
    try {
      const tx = db.transaction(['events', 'segmentHistory', 'kv'], 'readwrite');
      await Promise.all([
        ...events.map((e) => tx.objectStore('events').add(e)),
        ...changes.map((h) => tx.objectStore('segmentHistory').add(h)),
        tx.objectStore('kv').put(features, 'features'),
        tx.done,
      ]);
    } catch (err) {
      unwritten = events.concat(unwritten);
      history = changes.concat(history);
      fail(err);
    }
  }

  /** Retention: runs on start and then daily. */
  async function purge(): Promise<void> {
    if (!db) return;
    try {
      await purgeBefore(db, Date.now() - retentionMs);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * True when `mark` (the report period or round id) is not yet released and `epsilon`
   * more keeps `purpose` within its 30-day cap, read inside `tx`.
   */
  async function fits(tx: IDBPTransaction<EdgesegDB, ['kv', 'ledger', ...'outbox'[]], IDBTransactionMode>, mark: Mark, value: string, purpose: LedgerEntry['purpose'], epsilon: number, now: number): Promise<boolean> {
    return (await tx.objectStore('kv').get(mark)) !== value && withinBudget(await tx.objectStore('ledger').getAll(), purpose, epsilon, caps[purpose], now);
  }

  /**
   * Queues a release at most once per `value` of `mark`, atomically across tabs: the
   * check ({@link fits}) and the writes (mark, ledger entry, outbox item) share one
   * IndexedDB readwrite transaction, which browsers serialise. Sends when it queued.
   */
  async function queueOnce(db: Store, mark: Mark, value: string, epsilon: number, release: string, item: OutboxItem, now: number): Promise<void> {
    const tx = db.transaction(['kv', 'ledger', 'outbox'], 'readwrite');
    const created = await fits(tx, mark, value, item.purpose, epsilon, now);
    await Promise.all([
      ...(created ? [tx.objectStore('kv').put(value, mark), tx.objectStore('ledger').add({ at: now, purpose: item.purpose, epsilon, release }), tx.objectStore('outbox').put(item)] : []),
      tx.done,
    ]);
    if (created) await sender.deliver();
  }

  /** Creates this period's report under measurement if none exists yet. */
  async function maybeReport(): Promise<void> {
    if (!db || !model || !current || !consentNow().measurement) return;
    const manifest = model;
    const now = Date.now();
    const period = isoWeekPeriod(now);
    const id = randomId();
    const report = { id, model_version: manifest.version, period, value: grrEncode(current.id, manifest.k, manifest.epsilon.report) };
    try {
      await queueOnce(db, 'reportedPeriod', period, manifest.epsilon.report, `report ${period}`, { id, purpose: 'measurement', createdAt: now, report }, now);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * Checks the open round (when `fetchRound`) and contributes to it under
   * model_improvement (with personalization, which the features need): once per round
   * id ({@link queueOnce}), only to a round of the active model's version and within the
   * 30-day ε cap. The chunk that validates the round and seals the contribution is
   * imported only then; it hands the sealed item back to {@link queueOnce}, so the check,
   * the ledger charge and the outbox stay here. Runs one after another; flush() waits for them.
   */
  function contribute(fetchRound: boolean): Promise<void> {
    return (contributing = contributing.then(async () => {
      const m = model;
      const pinned = m && m.aggregators;
      const ok = (): boolean => consentNow().personalization && consentNow().model_improvement;
      if (!db || !pinned || !ok()) return;
      try {
        if (fetchRound) {
          const res = await get(endpoint, '/v1/rounds/current', 'contribute', 404, { cache: 'no-store' });
          round = res.ok ? ((await res.json()) as RoundHead) : null; // 404: no open round
        }
        const r = round;
        const now = Date.now();
        const raw = featureVector(features, now);
        if (!r || !raw) return; // no features yet: the round waits for the next burst of events
        round = null;
        if (r.model_version !== m.version || !(r.closes_at * 1000 > now) || !(await fits(db.transaction(['kv', 'ledger']), 'contributedRound', r.round_id, 'model_improvement', r.epsilon, now))) return;
        const chunk = (await import(contributeUrl)) as ContributeChunk;
        await chunk.contribute(r, standardise(raw, m.scaling.mean, m.scaling.scale), pinned, async (item) => {
          if (db && ok()) await queueOnce(db, 'contributedRound', r.round_id, r.epsilon, `round ${r.round_id}`, item, item.createdAt);
        });
      } catch (err) {
        fail(err);
      }
    }));
  }

  function activate(manifest: ModelManifest): void {
    model = manifest;
    centroids = flattenCentroids(manifest.centroids);
  }

  /** Stores a verified model as the last good one and makes it the active model. */
  async function adopt(db: Store, { manifest, cached }: VerifiedModel): Promise<void> {
    await db.put('kv', cached, 'model');
    activate(manifest);
  }

  async function loadModel(): Promise<void> {
    if (!db) return;
    try {
      const fresh = await fetchModel(endpoint, await readKv(db, 'model'));
      if (fresh) {
        await adopt(db, fresh);
        recompute();
        await maybeReport();
      }
    } catch (err) {
      fail(err);
    }
    void contribute(true); // at start, once the model (a new version or the cached one) is settled
  }

  async function loadBundledModel(cachedVersion: number): Promise<void> {
    if (!db || !options.model) return;
    try {
      await adopt(db, await verifyModel(options.model.jws, options.model.jwks.keys, { minVersion: cachedVersion + 1, nowMs: Date.now(), etag: null }));
    } catch (err) {
      if (cachedVersion === 0) fail(err); // an older bundled model than the cache is expected, not an error
    }
  }

  async function init(): Promise<void> {
    const opened = await openStore(dbName);
    db = opened;
    await purge();
    const [storedFeatures, storedConsent, cachedModel] = await Promise.all([readKv(opened, 'features'), readKv(opened, 'consent'), readKv(opened, 'model')]);
    if (storedFeatures && storedFeatures.v === features.v) features = storedFeatures;
    else fold(await opened.getAllFromIndex('events', 'at')); // none yet, or another layout (schema change): rebuild from the event log
    if (storedConsent) choice = { ...defaults, ...storedConsent };
    const manifest = cachedModel ? cachedManifest(cachedModel) : null;
    if (manifest) activate(manifest);
    await loadBundledModel(manifest ? manifest.version : 0);
    loaded = true;
    const early = waiting;
    waiting = [];
    recompute();
    apply(early);
    dailyTimer = setInterval(purge, DAY_MS); // it never rejects
    listen(true);
    await loadModel();
    await sender.deliver();
  }

  function onHide(): void {
    void writeQueued();
    void sender.deliver(true);
  }
  function onVisibility(): void {
    if (document.visibilityState === 'hidden') onHide(); // only a document fires visibilitychange
  }
  function onOnline(): void {
    void sender.deliver();
  }
  /** Adds or removes the page listeners (none where there is no global event target). */
  function listen(add: boolean): void {
    if (typeof addEventListener === 'function') {
      const method = add ? addEventListener : removeEventListener;
      method('pagehide', onHide);
      method('visibilitychange', onVisibility);
      method('online', onOnline);
    }
  }

  const ready: Promise<void> = init().catch(fail);

  const consent: ConsentApi = {
    get: consentNow,
    async set(change) {
      try {
        const before = consentNow();
        const next = { ...choice };
        for (const key of PURPOSES) {
          const v = change[key];
          if (typeof v === 'boolean') next[key] = v;
        }
        choice = next;
        await ready;
        if (!db) return;
        const now = consentNow();
        const tx = db.transaction(['kv', 'outbox', 'consentLog'], 'readwrite');
        const outbox = tx.objectStore('outbox');
        const withdrawn = (await outbox.getAll()).filter((item) => !now[item.purpose]); // reports and contributions alike
        await Promise.all([
          tx.objectStore('kv').put(choice, 'consent'),
          tx.objectStore('consentLog').add({ at: Date.now(), choice: { ...choice }, gpc: globalPrivacyControl() }),
          ...withdrawn.map((item) => outbox.delete(item.id)),
          tx.done,
        ]);
        consentChannel?.postMessage(choice);
        notify(consentListeners, now);
        recompute();
        await maybeReport();
        if (!(before.personalization && before.model_improvement)) void contribute(true); // just granted: is a round open?
      } catch (err) {
        fail(err);
      }
    },
    onChange(cb) {
      consentListeners.add(cb);
      return () => consentListeners.delete(cb);
    },
  };

  return {
    ready,
    consent,
    track(event) {
      try {
        const checked = parsePlaybackEvent(event);
        if (!checked.ok) {
          fail(new TypeError(`edgeseg.track: ${checked.errors.join('; ')}`));
          return;
        }
        const { at = Date.now(), genres, ...rest } = checked.value;
        const e: StoredEvent = { ...rest, genres: [...genres], at };
        if (loaded) apply([e]);
        else waiting.push(e);
      } catch (err) {
        fail(err);
      }
    },
    segment: () => current,
    onSegmentChange(cb) {
      segmentListeners.add(cb);
      return () => segmentListeners.delete(cb);
    },
    async exportData() {
      try {
        await ready;
        await writeQueued();
        if (!db) return null;
        const tx = db.transaction(['events', 'segmentHistory', 'consentLog', 'ledger', 'outbox']);
        const [events, segmentHistory, consentLog, entries, outbox] = await Promise.all([
          tx.objectStore('events').index('at').getAll(),
          tx.objectStore('segmentHistory').getAll(),
          tx.objectStore('consentLog').getAll(),
          tx.objectStore('ledger').getAll(),
          tx.objectStore('outbox').getAll(),
        ]);
        const now = Date.now();
        const raw = featureVector(features, now);
        const vector = raw ? Object.fromEntries(FEATURE_NAMES_V1.map((name, i) => [name, raw[i] as number])) : null;
        return {
          format: 'edgeseg-export/1',
          exportedAt: new Date(now).toISOString(),
          appId,
          consent: { choice: { ...choice }, effective: consentNow(), globalPrivacyControl: globalPrivacyControl() },
          events,
          features: { state: features, vector },
          segment: current,
          segmentHistory,
          consentLog,
          privacyLedger: {
            entries,
            spentLast30Days: { measurement: epsilonSpent(entries, 'measurement', now), model_improvement: epsilonSpent(entries, 'model_improvement', now) },
            cap: { ...caps },
          },
          outbox,
          model: model ? { version: model.version } : null,
        };
      } catch (err) {
        fail(err);
        return null;
      }
    },
    async eraseData() {
      try {
        await ready;
        waiting = [];
        unwritten = [];
        history = [];
        features = emptyFeatureState();
        choice = { ...defaults };
        if (db) {
          const tx = db.transaction(STORE_NAMES, 'readwrite');
          await Promise.all([...STORE_NAMES.map((name) => tx.objectStore(name).clear()), tx.done]);
        }
        const before = current;
        current = null;
        if (before) notify(segmentListeners, null);
        notify(consentListeners, consentNow());
      } catch (err) {
        fail(err);
      }
    },
    async flush() {
      await ready;
      await writeQueued();
      await contributing;
      await sender.deliver();
    },
    async shutdown() {
      await this.flush();
      sender.stop();
      clearInterval(dailyTimer);
      listen(false);
      consentChannel?.close();
      db?.close();
      db = null;
    },
  };
}
