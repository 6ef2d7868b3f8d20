/**
 * createSegmenter: the SDK's one entry point. It returns at once; the store and model
 * load in the background, and calls made before they are ready are queued, never lost
 * and never thrown into the host app.
 */
import {
  assignSegment,
  emptyFeatureState,
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
import { DEFAULT_CONSENT, effectiveConsent, globalPrivacyControl, type ConsentState } from './consent.ts';
import { randomId } from './ids.ts';
import { cachedManifest, fetchModel } from './model.ts';
import { openStore, readKv, type OutboxItem, type Store } from './store.ts';
import { sendReports } from './transport.ts';

export interface SegmenterOptions {
  /** Base URL of the edgeseg Worker, e.g. `https://edge.example.com` (no trailing path). */
  endpoint: string;
  /** Called once per problem (invalid event, failed model fetch, storage error); never throws into your app. */
  onError?: (error: Error) => void;
  /** IndexedDB database name; change it only to run two independent segmenters on one origin. */
  dbName?: string;
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

export interface Segmenter {
  /** Resolves when stored state is loaded and the first model fetch has settled. Never rejects. */
  readonly ready: Promise<void>;
  track(event: PlaybackEvent): void;
  segment(): SegmentInfo | null;
  onSegmentChange(cb: (segment: SegmentInfo | null) => void): () => void;
  readonly consent: ConsentApi;
  /** Writes queued events and sends queued payloads. Never rejects. */
  flush(): Promise<void>;
  /** Flushes and closes the store. */
  shutdown(): Promise<void>;
}

const WRITE_DELAY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;

interface ActiveModel {
  manifest: ModelManifest;
  centroids: Float32Array;
}

function activate(manifest: ModelManifest): ActiveModel {
  return { manifest, centroids: flattenCentroids(manifest.centroids) };
}

/**
 * Creates a segmenter. Returns synchronously; all I/O is lazy.
 *
 * @example
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com' });
 * seg.track({ type: 'play', contentId: 'tt01', genres: ['Drama'], durationSec: 3000, positionSec: 0, device: 'tv' });
 * seg.onSegmentChange((s) => console.log(s?.label));
 */
export function createSegmenter(options: SegmenterOptions): Segmenter {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const fail = (err: unknown): void => {
    try {
      options.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a throwing onError must not break the SDK either
    }
  };

  let db: Store | null = null;
  let loaded = false;
  let closed = false;
  let features: FeatureState = emptyFeatureState();
  let choice: ConsentState = { ...DEFAULT_CONSENT };
  let model: ActiveModel | null = null;
  let current: SegmentInfo | null = null;
  let reportedPeriod: string | undefined;
  let waiting: (PlaybackEvent & { at: number })[] = [];
  let unwritten: (PlaybackEvent & { at: number })[] = [];
  let writeTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = 1000;
  let delivering: Promise<void> | null = null;
  const segmentListeners = new Set<(s: SegmentInfo | null) => void>();
  const consentListeners = new Set<(c: ConsentState) => void>();

  const consentNow = (): ConsentState => effectiveConsent(choice, globalPrivacyControl());

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
    if (before?.id !== current?.id || before?.lifecycle !== current?.lifecycle || before?.modelVersion !== current?.modelVersion) {
      for (const cb of segmentListeners) {
        try {
          cb(current);
        } catch (err) {
          fail(err);
        }
      }
    }
  }

  function apply(events: (PlaybackEvent & { at: number })[]): void {
    if (!consentNow().personalization) return;
    const tz = new Date().getTimezoneOffset();
    for (const e of events) updateFeatureState(features, e, tz);
    unwritten.push(...events);
    recompute();
    scheduleWrite();
    void maybeReport();
  }

  function scheduleWrite(): void {
    if (writeTimer === undefined) writeTimer = setTimeout(() => void writeEvents(), WRITE_DELAY_MS);
  }

  /** One transaction for every event queued since the last write, plus the features. */
  async function writeEvents(): Promise<void> {
    clearTimeout(writeTimer);
    writeTimer = undefined;
    if (!db || unwritten.length === 0) return;
    const batch = unwritten;
    unwritten = [];
    try {
      const tx = db.transaction(['events', 'kv'], 'readwrite');
      const events = tx.objectStore('events');
      for (const e of batch) void events.add(e);
      void tx.objectStore('kv').put(features, 'features');
      await tx.done;
    } catch (err) {
      unwritten = batch.concat(unwritten);
      fail(err);
    }
  }

  async function maybeReport(): Promise<void> {
    const period = isoWeekPeriod(Date.now());
    if (!db || !model || !current || !consentNow().measurement || reportedPeriod === period) return;
    reportedPeriod = period;
    const { manifest } = model;
    const id = randomId();
    const item: OutboxItem = {
      id,
      purpose: 'measurement',
      report: { id, model_version: manifest.version, period, value: grrEncode(current.id, manifest.k, manifest.epsilon.report) },
      createdAt: Date.now(),
    };
    try {
      const tx = db.transaction(['kv', 'outbox'], 'readwrite');
      void tx.objectStore('kv').put(period, 'reportedPeriod');
      void tx.objectStore('outbox').put(item);
      await tx.done;
    } catch (err) {
      reportedPeriod = undefined;
      fail(err);
      return;
    }
    await deliver();
  }

  function deliver(keepalive = false): Promise<void> {
    delivering ??= (async () => {
      try {
        if (!db) return;
        const items = (await db.getAll('outbox')).filter((i) => consentNow()[i.purpose]);
        if (items.length === 0) return;
        const outcome = await sendReports(endpoint, items, keepalive);
        if (outcome === 'retry') {
          scheduleRetry();
          return;
        }
        retryDelay = 1000;
        if (outcome === 'rejected') fail(new Error('edgeseg: the server refused a report batch; it was dropped'));
        const tx = db.transaction('outbox', 'readwrite');
        for (const i of items) void tx.store.delete(i.id);
        await tx.done;
      } catch (err) {
        fail(err);
      } finally {
        delivering = null;
      }
    })();
    return delivering;
  }

  function scheduleRetry(): void {
    if (retryTimer !== undefined || closed) return;
    const delay = retryDelay * (0.5 + Math.random());
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void deliver();
    }, delay);
  }

  async function loadModel(): Promise<void> {
    if (!db) return;
    try {
      const fresh = await fetchModel(endpoint, await readKv(db, 'model'));
      if (!fresh) return;
      await db.put('kv', fresh.cached, 'model');
      model = activate(fresh.manifest);
      recompute();
      await maybeReport();
    } catch (err) {
      fail(err);
    }
  }

  async function init(): Promise<void> {
    db = await openStore(options.dbName);
    const [storedFeatures, storedConsent, cachedModel, period] = await Promise.all([readKv(db, 'features'), readKv(db, 'consent'), readKv(db, 'model'), readKv(db, 'reportedPeriod')]);
    if (storedFeatures) features = storedFeatures;
    if (storedConsent) choice = { ...DEFAULT_CONSENT, ...storedConsent };
    reportedPeriod = period;
    const manifest = cachedModel ? cachedManifest(cachedModel) : null;
    if (manifest) model = activate(manifest);
    loaded = true;
    const early = waiting;
    waiting = [];
    apply(early);
    recompute();
    if (typeof addEventListener === 'function') {
      addEventListener('pagehide', onHide);
      addEventListener('online', onOnline);
    }
    await loadModel();
    await deliver();
  }

  function onHide(): void {
    void writeEvents();
    void deliver(true);
  }
  function onOnline(): void {
    void deliver();
  }

  const ready: Promise<void> = init().catch(fail);

  const consent: ConsentApi = {
    get: consentNow,
    async set(change) {
      try {
        choice = { ...choice };
        for (const key of ['personalization', 'measurement', 'model_improvement'] as const) {
          const v = change[key];
          if (typeof v === 'boolean') choice[key] = v;
        }
        await ready;
        if (!db) return;
        const now = consentNow();
        const tx = db.transaction(['kv', 'outbox'], 'readwrite');
        void tx.objectStore('kv').put(choice, 'consent');
        if (!now.measurement) {
          for (const item of await tx.objectStore('outbox').getAll()) if (item.purpose === 'measurement') void tx.objectStore('outbox').delete(item.id);
        }
        await tx.done;
        for (const cb of consentListeners) {
          try {
            cb(now);
          } catch (err) {
            fail(err);
          }
        }
        recompute();
        await maybeReport();
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
        const e = { ...checked.value, genres: [...checked.value.genres], at: checked.value.at ?? Date.now() };
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
    async flush() {
      await ready;
      await writeEvents();
      await deliver();
    },
    async shutdown() {
      await this.flush();
      closed = true;
      clearTimeout(retryTimer);
      if (typeof removeEventListener === 'function') {
        removeEventListener('pagehide', onHide);
        removeEventListener('online', onOnline);
      }
      db?.close();
      db = null;
    },
  };
}
