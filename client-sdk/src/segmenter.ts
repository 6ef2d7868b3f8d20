/**
 * createSegmenter: the SDK's one entry point. It returns at once; the store and model
 * load in the background, and calls made before they are ready are queued, never lost
 * and never thrown into the host app.
 */
import {
  assignSegment,
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
import { cachedManifest, fetchModel, verifyModel } from './model.ts';
import type { PublicJwk } from './jws.ts';
import { createSender } from './sender.ts';
import {
  DB_NAME,
  done,
  openStore,
  purgeBefore,
  readKv,
  req,
  single,
  store,
  STORE_NAMES,
  type CachedModel,
  type ConsentLogEntry,
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

const DAY_MS = 86_400_000;
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

interface ActiveModel {
  manifest: ModelManifest;
  centroids: Float32Array;
}

function activate(manifest: ModelManifest): ActiveModel {
  return { manifest, centroids: flattenCentroids(manifest.centroids) };
}

function sameSegment(a: SegmentInfo | null, b: SegmentInfo | null): boolean {
  return a?.id === b?.id && a?.lifecycle === b?.lifecycle && a?.modelVersion === b?.modelVersion;
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
  const dbName = options.appId ? `${DB_NAME}-${options.appId}` : DB_NAME;
  const retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
  const caps = { measurement: options.budget?.measurement ?? DEFAULT_CAP, model_improvement: options.budget?.model_improvement ?? DEFAULT_CAP };
  const defaults: ConsentState = { ...DEFAULT_CONSENT, ...options.purposesDefault };
  const fail = (err: unknown): void => {
    try {
      options.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a throwing onError must not break the SDK either
    }
  };

  let db: Store | null = null;
  let loaded = false;
  let features: FeatureState = emptyFeatureState();
  let choice: ConsentState = { ...defaults };
  let model: ActiveModel | null = null;
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
        const { manifest, centroids } = model;
        const id = assignSegment(standardise(raw, manifest.scaling.mean, manifest.scaling.scale), centroids);
        current = { id, label: manifest.labels[id] ?? `Segment ${id + 1}`, lifecycle: lifecycleStage(features, now, manifest.lifecycle), modelVersion: manifest.version, computedAt: now };
      }
    }
    if (!sameSegment(before, current)) {
      history.push({ at: Date.now(), id: current?.id ?? null, label: current?.label ?? null, lifecycle: current?.lifecycle ?? null, modelVersion: current?.modelVersion ?? null });
      scheduleWrite();
      notify(segmentListeners, current);
    }
  }

  function apply(events: StoredEvent[]): void {
    if (events.length === 0 || !consentNow().personalization) return;
    const tz = new Date().getTimezoneOffset();
    for (const e of events) updateFeatureState(features, e, tz);
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
    queueMicrotask(() => void writeQueued());
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
      for (const e of events) store(tx, 'events').add(e);
      for (const h of changes) store(tx, 'segmentHistory').add(h);
      store(tx, 'kv').put(features, 'features');
      await done(tx);
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
  async function fits(tx: IDBTransaction, mark: Mark, value: string, purpose: LedgerEntry['purpose'], epsilon: number, now: number): Promise<boolean> {
    return (await req(store(tx, 'kv').get(mark))) !== value && withinBudget(await req(store(tx, 'ledger').getAll()), purpose, epsilon, caps[purpose], now);
  }

  /**
   * Queues a release at most once per `value` of `mark`, atomically across tabs: the
   * check ({@link fits}) and the writes (mark, ledger entry, outbox item) share one
   * IndexedDB readwrite transaction, which browsers serialise. Sends when it queued.
   */
  async function queueOnce(db: Store, mark: Mark, value: string, epsilon: number, release: string, item: OutboxItem, now: number): Promise<void> {
    const tx = db.transaction(['kv', 'outbox', 'ledger'], 'readwrite');
    const created = await fits(tx, mark, value, item.purpose, epsilon, now);
    if (created) {
      store(tx, 'kv').put(value, mark);
      store(tx, 'ledger').add({ at: now, purpose: item.purpose, epsilon, release });
      store(tx, 'outbox').put(item);
    }
    await done(tx);
    if (created) await sender.deliver();
  }

  /** Creates this period's report under measurement if none exists yet. */
  async function maybeReport(): Promise<void> {
    if (!db || !model || !current || !consentNow().measurement) return;
    const { manifest } = model;
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
   * imported only then. Runs one after another; flush() waits for them.
   */
  function contribute(fetchRound: boolean): Promise<void> {
    return (contributing = contributing.then(async () => {
      const m = model?.manifest;
      const pinned = m?.aggregators;
      const ok = (): boolean => consentNow().personalization && consentNow().model_improvement;
      if (!db || !pinned || !ok()) return;
      try {
        if (fetchRound) {
          const res = await fetch(`${endpoint}/v1/rounds/current`, { credentials: 'omit', cache: 'no-store' });
          if (!res.ok && res.status !== 404) throw new Error(`contribute: GET /v1/rounds/current answered ${res.status}`);
          round = res.ok ? ((await res.json()) as RoundHead) : null; // 404: no open round
        }
        const r = round;
        const now = Date.now();
        const raw = featureVector(features, now);
        if (!r || !raw) return; // no features yet: the round waits for the next burst of events
        round = null;
        if (r.model_version !== m.version || !(r.closes_at * 1000 > now) || !(await fits(db.transaction(['kv', 'ledger']), 'contributedRound', r.round_id, 'model_improvement', r.epsilon, now))) return;
        const url = options.contributeUrl ?? `${endpoint}/sdk/contribute.min.js`; // a variable, so bundlers leave the import alone
        const chunk = (await import(url)) as ContributeChunk;
        const body = await chunk.prepareContribution(r, standardise(raw, m.scaling.mean, m.scaling.scale), pinned, randomId());
        if (db && ok()) await queueOnce(db, 'contributedRound', r.round_id, r.epsilon, `round ${r.round_id}`, { id: body.id, purpose: 'model_improvement', createdAt: now, contribution: body }, now);
      } catch (err) {
        fail(err);
      }
    }));
  }

  async function useModel(manifest: ModelManifest): Promise<void> {
    model = activate(manifest);
    recompute();
    await maybeReport();
  }

  const saveModel = (db: Store, cached: CachedModel): Promise<IDBValidKey> => single(db, 'kv', 'readwrite', (s) => s.put(cached, 'model'));

  async function loadModel(): Promise<void> {
    if (!db) return;
    try {
      const fresh = await fetchModel(endpoint, await readKv(db, 'model'));
      if (fresh) {
        await saveModel(db, fresh.cached);
        await useModel(fresh.manifest);
      }
    } catch (err) {
      fail(err);
    }
    void contribute(true); // at start, once the model (a new version or the cached one) is settled
  }

  async function loadBundledModel(cachedVersion: number): Promise<void> {
    if (!db || !options.model) return;
    try {
      const bundled = await verifyModel(options.model.jws, options.model.jwks.keys, { minVersion: cachedVersion + 1, nowMs: Date.now(), etag: null });
      await saveModel(db, bundled.cached);
      model = activate(bundled.manifest);
    } catch (err) {
      if (cachedVersion === 0) fail(err); // an older bundled model than the cache is expected, not an error
    }
  }

  /** Rebuilds the features from the event log when the stored state has another layout (schema change). */
  async function rebuildFeatures(db: Store): Promise<FeatureState> {
    const state = emptyFeatureState();
    const tz = new Date().getTimezoneOffset();
    for (const e of await single(db, 'events', 'readonly', (s) => s.index('at').getAll() as IDBRequest<StoredEvent[]>)) updateFeatureState(state, e, tz);
    return state;
  }

  async function init(): Promise<void> {
    const opened = await openStore(dbName);
    db = opened;
    await purge();
    const [storedFeatures, storedConsent, cachedModel] = await Promise.all([readKv(opened, 'features'), readKv(opened, 'consent'), readKv(opened, 'model')]);
    features = storedFeatures && storedFeatures.v === emptyFeatureState().v ? storedFeatures : await rebuildFeatures(opened);
    if (storedConsent) choice = { ...defaults, ...storedConsent };
    const manifest = cachedModel ? cachedManifest(cachedModel) : null;
    if (manifest) model = activate(manifest);
    await loadBundledModel(manifest?.version ?? 0);
    loaded = true;
    const early = waiting;
    waiting = [];
    recompute();
    apply(early);
    dailyTimer = setInterval(() => void purge(), DAY_MS);
    if (typeof addEventListener === 'function') {
      addEventListener('pagehide', onHide);
      addEventListener('visibilitychange', onVisibility);
      addEventListener('online', onOnline);
    }
    await loadModel();
    await sender.deliver();
  }

  function onHide(): void {
    void writeQueued();
    void sender.deliver(true);
  }
  function onVisibility(): void {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') onHide();
  }
  function onOnline(): void {
    void sender.deliver();
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
        store(tx, 'kv').put(choice, 'consent');
        store(tx, 'consentLog').add({ at: Date.now(), choice: { ...choice }, gpc: globalPrivacyControl() });
        const outbox = store(tx, 'outbox');
        for (const item of await req(outbox.getAll())) if (!now[item.purpose]) outbox.delete(item.id); // reports and contributions alike
        await done(tx);
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
        const e: StoredEvent = { ...checked.value, genres: [...checked.value.genres], at: checked.value.at ?? Date.now() };
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
          req(store(tx, 'events').index('at').getAll() as IDBRequest<StoredEvent[]>),
          req(store(tx, 'segmentHistory').getAll()),
          req(store(tx, 'consentLog').getAll()),
          req(store(tx, 'ledger').getAll()),
          req(store(tx, 'outbox').getAll()),
        ]);
        const raw = featureVector(features, Date.now());
        const vector = raw ? Object.fromEntries(FEATURE_NAMES_V1.map((name, i) => [name, raw[i] as number])) : null;
        return {
          format: 'edgeseg-export/1',
          exportedAt: new Date().toISOString(),
          appId: options.appId ?? null,
          consent: { choice: { ...choice }, effective: consentNow(), globalPrivacyControl: globalPrivacyControl() },
          events,
          features: { state: features, vector },
          segment: current,
          segmentHistory,
          consentLog,
          privacyLedger: {
            entries,
            spentLast30Days: { measurement: epsilonSpent(entries, 'measurement', Date.now()), model_improvement: epsilonSpent(entries, 'model_improvement', Date.now()) },
            cap: { ...caps },
          },
          outbox,
          model: model ? { version: model.manifest.version } : null,
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
          const tx = db.transaction([...STORE_NAMES], 'readwrite');
          for (const name of STORE_NAMES) tx.objectStore(name).clear();
          await done(tx);
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
      if (typeof removeEventListener === 'function') {
        removeEventListener('pagehide', onHide);
        removeEventListener('visibilitychange', onVisibility);
        removeEventListener('online', onOnline);
      }
      consentChannel?.close();
      db?.close();
      db = null;
    },
  };
}
