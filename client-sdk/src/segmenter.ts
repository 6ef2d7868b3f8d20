/**
 * createSegmenter: the SDK's one entry point, wiring the parts together: consent
 * (consent.ts), the event log and features (event-log.ts), the segment, campaigns
 * (campaign-watch.ts), model loading (model.ts), release scheduling
 * (release-scheduler.ts) and the outbox sender (sender.ts). It returns at once and never
 * throws: the store and model load in the background, calls made before they are ready
 * are queued, and every problem reaches `onError` as an {@link EdgesegError}.
 */
import { assignSegment, DAY_MS, featureVector, flattenCentroids, lifecycleStage, parsePlaybackEvent, standardise, type ModelManifest } from '@edgeseg/shared';
import type { ConsentApi, Segmenter, SegmenterOptions, SegmentInfo } from './api.ts';
import { clampBudget, DEFAULT_BUDGET } from './budget.ts';
import { createCampaignWatch, recordShown } from './campaign-watch.ts';
import { loadDataChunk, loadReleaseChunk, loadVerifyChunk } from './chunks.ts';
import { DEFAULT_CONSENT, effectiveConsent, globalPrivacyControl, PURPOSES, readConsentChange, type ConsentState } from './consent.ts';
import { EdgesegError, toEdgesegError, type EdgesegErrorCode, type EdgesegStage } from './errors.ts';
import { createEventLog } from './event-log.ts';
import { base64urlText } from './jws.ts';
import { fetchModel, type Fetch } from './model.ts';
import type { ReleaseScheduler } from './release-scheduler.ts';
import { insecureContext } from './runtime.ts';
import type { Sender } from './sender.ts';
import { DB_NAME, openStore, purgeBefore, readKv, writeKv, type CachedModel, type Store, type VerifiedModel } from './store.ts';
import { openTabChannel, type TabChannel, type TabMessage } from './tab-channel.ts';

export type { ConsentApi, EdgesegExport, Segmenter, SegmenterOptions, SegmentInfo } from './api.ts';

const DEFAULT_RETENTION_DAYS = 90;

/** What the segmenter does I/O with: injected, so its parts are tested in Node (fake-indexeddb, a fake fetch, a fixed clock). */
export interface SegmenterDeps {
  openStore: (name: string) => Promise<Store>;
  fetch: Fetch;
  now: () => number;
  openChannel: (name: string, onMessage: (m: TabMessage) => void) => TabChannel | null;
  /** Why WebCrypto is unusable here, or null. */
  insecure: () => string | null;
}

/** The browser's own. */
const browserDeps = (): SegmenterDeps => ({ openStore, fetch: (input, init) => fetch(input, init), now: Date.now, openChannel: openTabChannel, insecure: insecureContext });

/** A cached model that carries its verified manifest (older caches do not: they are fetched again). */
function usable(cached: CachedModel | undefined): CachedModel | undefined {
  return cached && cached.manifest ? cached : undefined;
}

function sameSegment(a: SegmentInfo | null, b: SegmentInfo | null): boolean {
  return a === b || (!!a && !!b && a.id === b.id && a.lifecycle === b.lifecycle && a.modelVersion === b.modelVersion);
}

/** Problems with the options, in words (empty when fine). */
function optionProblems(o: Partial<SegmenterOptions> | null | undefined): string[] {
  if (!o || typeof o !== 'object') return ['options must be an object, e.g. { endpoint: "https://edge.example.com" }'];
  const problems: string[] = [];
  if (typeof o.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(o.endpoint)) problems.push('endpoint must be the absolute http(s) URL of the edgeseg Worker');
  if (o.appId !== undefined && (typeof o.appId !== 'string' || !/^[\w.-]{1,64}$/.test(o.appId))) problems.push('appId must be 1-64 letters, digits, ".", "_" or "-"');
  if (o.retentionDays !== undefined && !(typeof o.retentionDays === 'number' && o.retentionDays > 0)) problems.push('retentionDays must be a positive number');
  if (o.onError !== undefined && typeof o.onError !== 'function') problems.push('onError must be a function');
  const b = o.budget as Record<string, unknown> | undefined;
  if (b !== undefined && (!b || typeof b !== 'object' || Object.keys(b).some((k) => !(k in DEFAULT_BUDGET) || !(typeof b[k] === 'number' && (b[k] as number) >= 0)))) problems.push('budget must be { measurement?, model_improvement?, total_365d? } with numbers ≥ 0');
  return problems;
}

/**
 * Creates a segmenter. Returns synchronously and never throws; all I/O is lazy. Invalid
 * options give an inert segmenter and one `invalid-options` error.
 *
 * @example
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com', appId: 'streambox', onError: console.warn });
 * seg.track({ type: 'play', contentId: 'tt01', genres: ['Drama'], durationSec: 3000, positionSec: 0, device: 'tv' });
 * seg.onSegmentChange((s) => console.log(s?.label));
 */
export function createSegmenter(options: SegmenterOptions): Segmenter {
  return startSegmenter(options, browserDeps());
}

/**
 * {@link createSegmenter} with its I/O given (internal: tests and hosts with their own storage or fetch).
 *
 * @example
 * const seg = startSegmenter({ endpoint }, { ...deps, now: () => fixedNow });
 */
export function startSegmenter(options: SegmenterOptions, deps: SegmenterDeps): Segmenter {
  const onError = options && typeof options.onError === 'function' ? options.onError : null;
  const debug = !!(options && options.debug);
  const say = (message: string): void => {
    if (debug && typeof console !== 'undefined') console.debug(`[edgeseg] ${message}`);
  };
  const report = (err: EdgesegError): void => {
    say(`error ${err.code} (${err.stage}): ${err.message}`);
    try {
      if (onError) onError(err);
    } catch {
      // a throwing onError must not break the SDK either
    }
  };
  const fail = (code: EdgesegErrorCode, stage: EdgesegStage) => (err: unknown) => report(toEdgesegError(err, code, stage));

  const problems = optionProblems(options);
  const unusable = problems.length ? problems : null;
  if (unusable) report(new EdgesegError('invalid-options', 'init', `createSegmenter: ${unusable.join('; ')}`));
  const o: SegmenterOptions = unusable ? { endpoint: '' } : options;

  const endpoint = o.endpoint.replace(/\/+$/, '');
  const { appId = null, retentionDays = DEFAULT_RETENTION_DAYS } = o;
  const dbName = appId ? `${DB_NAME}-${appId}` : DB_NAME;
  // An app may lower the budget, never raise it: the viewer was promised the defaults.
  const { budget: caps, clamped } = clampBudget(o.budget);
  if (clamped.length) say(`budget: ${clamped.join(', ')} above the default, kept at ${clamped.map((k) => DEFAULT_BUDGET[k]).join(', ')}`);
  const defaults: ConsentState = { ...DEFAULT_CONSENT, ...o.purposesDefault };
  const { now } = deps;
  const insecure = unusable ? null : deps.insecure();
  if (insecure) report(new EdgesegError('insecure-context', 'init', insecure));

  let db: Store | null = null;
  let loaded = false;
  let choice: ConsentState = { ...defaults };
  /** Purposes set before the stored consent was read: they stand over it. */
  let setEarly: Partial<ConsentState> = {};
  let answer: () => void = () => undefined;
  /** With `waitForConsent`, resolves at the first consent.set(): nothing is stored before. */
  const answered = o.waitForConsent ? new Promise<void>((resolve) => (answer = resolve)) : null;
  let unanswered = !!answered;
  /** The active model, and its centroids flattened once per model. */
  let model: ModelManifest | null = null;
  let centroids: Float32Array = new Float32Array(0);
  let current: SegmentInfo | null = null;
  let noSegmentWhy = '';
  let dailyTimer: ReturnType<typeof setInterval> | undefined;
  const segmentListeners = new Set<(s: SegmentInfo | null) => void>();
  const campaignListeners = new Set<(c: ReturnType<Segmenter['campaigns']>) => void>();
  const consentListeners = new Set<(c: ConsentState) => void>();

  const consentNow = (): ConsentState => effectiveConsent(choice, globalPrivacyControl());

  function notify<T>(listeners: Set<(v: T) => void>, value: T): void {
    listeners.forEach((cb) => {
      try {
        cb(value);
      } catch (err) {
        report(new EdgesegError('listener-threw', 'callback', `a listener threw: ${String(err)}`, err));
      }
    });
  }

  const events = createEventLog({ store: () => db, keep: () => consentNow().personalization, onBurst: settle, fail: report });
  const campaigns = createCampaignWatch(() => ({ model, segment: current }), now, (list) => notify(campaignListeners, list));

  /** The release chunk's scheduler and sender, created once the chunk is loaded. */
  let sending: Promise<{ releases: ReleaseScheduler; sender: Sender }> | null = null;
  /** Release tasks under way: flush() waits for them. */
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  /**
   * Runs `task` with the release scheduler and sender, loading their chunk first, but only
   * while a purpose that sends (measurement, model_improvement) is granted: with
   * personalization alone nothing leaves the device, so that code is never downloaded.
   * Never rejects.
   */
  function withReleases(task: (r: { releases: ReleaseScheduler; sender: Sender }) => Promise<void> | void): Promise<void> {
    const c = consentNow();
    if (!db || insecure || stopped) return Promise.resolve();
    if (!sending && !(c.measurement || c.model_improvement)) return Promise.resolve(say('nothing to send: measurement and model_improvement are not granted (or Global Privacy Control is on)'));
    sending =
      sending ||
      loadReleaseChunk().then(
        ({ createReleaseScheduler, createSender }) => {
          const sender = createSender({ endpoint, lockName: `${dbName}:send`, store: () => db, allowed: (item) => consentNow()[item.purpose], fail: fail('send-refused', 'send'), fetch: deps.fetch });
          const releases = createReleaseScheduler({ endpoint, fetch: deps.fetch, now, caps, helper: o.aggregators && o.aggregators.helper, store: () => db, model: () => model, segment: () => current, features: (t) => featureVector(events.features, t), consent: consentNow, deliver: () => sender.deliver(), fail: report, log: say });
          return { releases, sender };
        },
        (err: unknown) => {
          sending = null; // tried again at the next occasion
          throw new EdgesegError('chunk-load-failed', 'report', `the release chunk did not load: ${String(err)}`, err);
        },
      );
    const running = sending.then(task).catch(fail('internal', 'report'));
    inFlight.add(running);
    void running.then(() => inFlight.delete(running));
    return running;
  }
  const channel = unusable ? null : deps.openChannel(`${dbName}:tabs`, onTabMessage);

  /** Another tab changed consent (say, the preference centre) or erased the data: act on it here at once. */
  function onTabMessage(m: TabMessage): void {
    if (m.type === 'erase') {
      forget();
      if (db) loadDataChunk().then((d) => db && d.eraseStore(db, now())).catch(fail('storage-failed', 'erase')); // anything this tab wrote before it heard
      return;
    }
    choice = { ...defaults, ...m.choice };
    notify(consentListeners, consentNow());
    recompute();
    releaseAll();
  }

  function releaseAll(): Promise<void> {
    return withReleases(async ({ releases }) => {
      await Promise.all([releases.report(), releases.impressions(), releases.count()]);
    });
  }

  function recompute(): void {
    const before = current;
    current = null;
    const nowMs = now();
    const raw = model && consentNow().personalization ? featureVector(events.features, nowMs) : null;
    if (model && raw) {
      const id = assignSegment(standardise(raw, model.scaling.mean, model.scaling.scale), centroids);
      // parseManifest checked one label per centroid, so labels[id] is there
      current = { id, label: model.labels[id] as string, lifecycle: lifecycleStage(events.features, nowMs, model.lifecycle), modelVersion: model.version, computedAt: nowMs };
    }
    const why = current ? '' : !consentNow().personalization ? 'personalization is off' : !model ? (insecure ? 'no model: not a secure context' : 'no model yet') : 'no events yet';
    if (why !== noSegmentWhy && why) say(`no segment: ${why}`);
    noSegmentWhy = why;
    if (!sameSegment(before, current)) {
      const { id = null, label = null, lifecycle = null, modelVersion = null } = current || {};
      if (loaded) events.addHistory({ at: nowMs, id, label, lifecycle, modelVersion });
      notify(segmentListeners, current);
    }
    campaigns.check();
  }

  /** Runs once per burst of track() calls, at the end of the task (event-log.ts). */
  function settle(): void {
    recompute();
    void releaseAll();
    void withReleases(({ releases }) => releases.contribute(false));
  }

  /** Forgets everything held in memory (erase, here or in another tab). */
  function forget(): void {
    events.reset();
    if (sending) void sending.then(({ releases }) => releases.reset()).catch(() => undefined);
    choice = { ...defaults };
    recompute();
    notify(consentListeners, consentNow());
  }

  async function purge(): Promise<void> {
    if (db) await purgeBefore(db, now() - retentionDays * DAY_MS).catch(fail('storage-failed', 'storage'));
  }

  function activate(manifest: ModelManifest): void {
    model = manifest;
    centroids = flattenCentroids(manifest.centroids);
  }

  /** Stores a verified model as the last good one and makes it the active model. */
  async function adopt(store: Store, { manifest, cached }: VerifiedModel): Promise<void> {
    await writeKv(store, 'model', cached);
    activate(manifest);
  }

  const verifier = async () => {
    try {
      return (await loadVerifyChunk()).verifyModel;
    } catch (err) {
      throw new EdgesegError('chunk-load-failed', 'model', `the verification chunk did not load: ${String(err)}`, err);
    }
  };

  /** Verifies and adopts `jws` (a model bundled with the app) when newer than the cached one; its unverified payload is only peeked at to skip the chunk when not. */
  async function loadBundledModel(store: Store, cachedVersion: number): Promise<void> {
    const bundled = o.model;
    if (!bundled) return;
    try {
      if ((JSON.parse(base64urlText(bundled.jws.split('.')[1] || '')) as { version?: number }).version! <= cachedVersion) return;
      const verify = await verifier();
      await adopt(store, await verify(bundled.jws, bundled.jwks.keys, { minVersion: cachedVersion + 1, nowMs: now() }).catch((err: unknown) => Promise.reject(toEdgesegError(err, 'model-rejected', 'model'))));
    } catch (err) {
      report(toEdgesegError(err, 'model-rejected', 'model'));
    }
  }

  async function loadModel(store: Store): Promise<void> {
    let fresh: VerifiedModel | null = null;
    try {
      const verify = async () => {
        const v = await verifier();
        return (...args: Parameters<typeof v>) => v(...args).catch((err: unknown) => Promise.reject(toEdgesegError(err, 'model-rejected', 'model')));
      };
      fresh = await fetchModel(deps.fetch, endpoint, usable(await readKv(store, 'model')), verify, now());
    } catch (err) {
      report(toEdgesegError(err, 'model-fetch-failed', 'model'));
    }
    if (fresh) {
      await adopt(store, fresh);
      recompute();
    }
  }

  async function init(): Promise<void> {
    if (unusable) return;
    if (answered) {
      say('waitForConsent: nothing is stored until consent.set() is called');
      await answered;
    }
    let store: Store;
    try {
      store = await deps.openStore(dbName);
    } catch (err) {
      return report(new EdgesegError('storage-unavailable', 'storage', `IndexedDB did not open (${String(err)}); events are kept in memory only`, err));
    }
    db = store;
    await purge();
    const [storedConsent, cachedModel] = await Promise.all([readKv(store, 'consent'), readKv(store, 'model')]);
    choice = { ...defaults, ...storedConsent, ...setEarly };
    if (Object.keys(setEarly).length) await writeKv(store, 'consent', choice);
    const cached = insecure ? undefined : usable(cachedModel);
    if (cached) activate(cached.manifest as ModelManifest);
    if (!insecure) await loadBundledModel(store, cached ? cached.version : 0);
    loaded = true;
    await events.open(store);
    recompute();
    dailyTimer = setInterval(() => {
      void purge();
      void withReleases(({ releases }) => void releases.count(true));
    }, DAY_MS);
    listen(true);
    if (!insecure) await loadModel(store);
    await withReleases(async ({ releases, sender }) => {
      await Promise.all([releases.report(), releases.impressions(), releases.count(true), releases.contribute(true), sender.deliver()]);
    });
  }

  function deliver(keepalive?: boolean): Promise<void> {
    return sending ? sending.then(({ sender }) => sender.deliver(keepalive)).catch(() => undefined) : Promise.resolve();
  }

  function onHide(): void {
    void events.write();
    void deliver(true);
  }
  function onVisibility(): void {
    if (document.visibilityState === 'hidden') onHide(); // only a document fires visibilitychange
  }
  function onOnline(): void {
    void deliver();
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

  const ready: Promise<void> = init().catch(fail('internal', 'init'));
  /** `ready`, or at once while waitForConsent waits for its answer: export, erase and flush then act on memory only, never hang. */
  const settled = (): Promise<void> => (unanswered ? Promise.resolve() : ready);

  const consent: ConsentApi = {
    get: consentNow,
    async set(change) {
      try {
        const { change: valid, unknown } = readConsentChange(change);
        if (unknown.length) report(new EdgesegError('unknown-consent-key', 'consent', `consent.set: ignored ${unknown.join(', ')}: the purposes are personalization, measurement and model_improvement, each true or false`));
        const before = consentNow();
        const prior = choice;
        choice = { ...choice, ...valid };
        if (!loaded) setEarly = { ...setEarly, ...valid };
        unanswered = false;
        answer();
        // A consent platform answers on every page load: an answer that changes nothing stores nothing (no consent-log entry per visit).
        if (loaded && PURPOSES.every((p) => prior[p] === choice[p])) return say('consent.set: nothing changed');
        await ready;
        if (!db) return;
        const after = consentNow();
        const tx = db.transaction(['kv', 'outbox', 'consentLog'], 'readwrite');
        const outbox = tx.objectStore('outbox');
        const withdrawn = (await outbox.getAll()).filter((item) => !after[item.purpose]); // reports and contributions alike
        await Promise.all([
          tx.objectStore('kv').put(choice, 'consent'),
          tx.objectStore('consentLog').add({ at: now(), choice: { ...choice }, gpc: globalPrivacyControl() }),
          ...withdrawn.map((item) => outbox.delete(item.id)),
          tx.done,
        ]);
        if (channel) channel.post({ type: 'consent', choice });
        notify(consentListeners, after);
        recompute();
        await withReleases(async ({ releases }) => {
          await releases.report();
          await releases.impressions();
          void releases.count(); // flush() waits for counts and contributions (releases.idle)
          if (!(before.personalization && before.model_improvement)) void releases.contribute(true); // just granted: is a round open?
        });
      } catch (err) {
        report(toEdgesegError(err, 'storage-failed', 'consent'));
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
        if (!checked.ok) return report(new EdgesegError('invalid-event', 'track', `track: ${checked.errors.join('; ')}`));
        const { at = now(), genres, ...rest } = checked.value;
        events.add({ ...rest, genres: genres.slice(), at });
      } catch (err) {
        report(toEdgesegError(err, 'internal', 'track'));
      }
    },
    segment: () => current,
    campaigns: () => campaigns.active(),
    onCampaignsChange(cb) {
      campaignListeners.add(cb);
      return () => campaignListeners.delete(cb);
    },
    campaignShown(id) {
      if (!(model && model.campaigns && model.campaigns.some((c) => c.id === id))) return report(new EdgesegError('unknown-campaign', 'campaigns', `campaignShown: ${String(id)} is not a campaign of the active model`));
      void settled().then(() => db && recordShown(db, id, now())).catch(fail('storage-failed', 'campaigns'));
    },
    onSegmentChange(cb) {
      segmentListeners.add(cb);
      return () => segmentListeners.delete(cb);
    },
    async exportData() {
      try {
        await settled();
        await events.write();
        if (!db) return null;
        const gpc = globalPrivacyControl();
        const { readExport } = await loadDataChunk();
        return await readExport(db, { appId, choice: { ...choice }, effective: effectiveConsent(choice, gpc), gpc, features: events.features, segment: current, caps: { ...caps }, modelVersion: model && model.version }, now());
      } catch (err) {
        report(toEdgesegError(err, 'storage-failed', 'export'));
        return null;
      }
    },
    async eraseData() {
      try {
        await settled();
        forget();
        if (channel) channel.post({ type: 'erase' });
        if (db) await (await loadDataChunk()).eraseStore(db, now());
      } catch (err) {
        report(toEdgesegError(err, 'storage-failed', 'erase'));
      }
    },
    async flush() {
      await settled();
      await events.write();
      for (let i = 0; i < 3 && inFlight.size; i++) await Promise.all(Array.from(inFlight)); // tasks may start others
      if (sending) {
        await sending.then(async ({ releases, sender }) => {
          await releases.idle();
          await sender.deliver();
        }).catch(() => undefined);
      }
    },
    async shutdown() {
      await this.flush();
      stopped = true;
      if (sending) void sending.then(({ sender }) => sender.stop()).catch(() => undefined);
      clearInterval(dailyTimer);
      campaigns.stop();
      listen(false);
      if (channel) channel.close();
      if (db) db.close();
      db = null;
    },
  };
}
