/**
 * createSegmenter: the SDK's one entry point. It returns at once; the store and model
 * load in the background, and calls made before they are ready are queued, never lost
 * and never thrown into the host app.
 */
import {
  assignSegment,
  campaignsFor,
  DAY_MS,
  emptyFeatureState,
  featureVector,
  flattenCentroids,
  grrEncode,
  impressionEpsilon,
  impressionValue,
  isoWeekPeriod,
  lifecycleEpsilon,
  lifecycleReportValue,
  lifecycleStage,
  parsePlaybackEvent,
  standardise,
  updateFeatureState,
  type Campaign,
  type FeatureState,
  type ModelManifest,
} from '@edgeseg/shared';
import type { ConsentApi, Segmenter, SegmenterOptions, SegmentInfo } from './api.ts';
import { DEFAULT_CONSENT, effectiveConsent, globalPrivacyControl, PURPOSES, type ConsentState } from './consent.ts';
import { readExport } from './export.ts';
import { randomId } from './ids.ts';
import { base64urlText } from './jws.ts';
import { loadContributeChunk, loadVerifyChunk, type VerifyChunk } from './chunks.ts';
import { fetchModel } from './model.ts';
import { fetchRoundHead, type RoundHead } from './rounds.ts';
import { fits, queueOnce, type Mark, type Release } from './release.ts';
import type { RoundJob } from './contribute/job.ts';
import { createSender } from './sender.ts';
import { DB_NAME, openStore, purgeBefore, readKv, STORE_NAMES, writeKv, type CachedModel, type SegmentHistoryEntry, type Store, type StoredEvent, type VerifiedModel } from './store.ts';

export type { ConsentApi, EdgesegExport, Segmenter, SegmenterOptions, SegmentInfo } from './api.ts';

const DEFAULT_RETENTION_DAYS = 90;
/**
 * Default ε caps per 30 days. Measurement: the bootstrap model spends 4 a week (segment
 * report 2, lifecycle 1, impressions 1) and a 30-day window can hold 5 weekly releases.
 */
const DEFAULT_CAPS = { measurement: 20, model_improvement: 10 } as const;

/** A cached model that carries its verified manifest (older caches do not: they are fetched again). */
function usable(cached: CachedModel | undefined): CachedModel | undefined {
  return cached && cached.manifest ? cached : undefined;
}

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
    budget: { measurement = DEFAULT_CAPS.measurement, model_improvement = DEFAULT_CAPS.model_improvement } = {},
  } = options;
  const verifier = async (): Promise<VerifyChunk['verifyModel']> => (await loadVerifyChunk()).verifyModel;
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
  /** Fires when one of the current segment's campaigns starts or ends (at most a day ahead). */
  let campaignTimer: ReturnType<typeof setTimeout> | undefined;
  /** The ids of the campaigns last announced to onCampaignsChange subscribers. */
  let campaignIds = '';
  /** The open round last fetched, kept until this device has features to contribute. */
  let round: RoundHead | null = null;
  /** Contribution checks (rounds and counts) run one after another; flush() waits for them. */
  let contributing: Promise<void> = Promise.resolve();
  /** The ISO week whose counts round was last looked for: asked again only after a model fetch or a day. */
  let countsAsked = '';
  const segmentListeners = new Set<(s: SegmentInfo | null) => void>();
  const campaignListeners = new Set<(c: Campaign[]) => void>();
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
      void maybeReportImpressions();
      void maybeCount();
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
    checkCampaigns();
  }

  /** The active model's campaigns for the current segment, within their time window, at `nowMs`. */
  function campaignsAt(nowMs: number): Campaign[] {
    return model && model.campaigns && current ? campaignsFor(model.campaigns, current.id, nowMs / 1000) : [];
  }

  /**
   * Announces a change of {@link campaignsAt} (new model, new segment, consent, a window
   * opening or closing) and sets a timer for the next start or end among the current
   * segment's campaigns, so that a window boundary takes effect without a new event.
   */
  function checkCampaigns(): void {
    const now = Date.now();
    const active = campaignsAt(now);
    const ids = active.map((c) => c.id).join();
    if (ids !== campaignIds) {
      campaignIds = ids;
      notify(campaignListeners, active);
    }
    clearTimeout(campaignTimer);
    let next = now + DAY_MS;
    for (const c of (model && current && model.campaigns) || []) {
      for (const at of [c.starts_at, c.ends_at]) if (c.segment === (current as SegmentInfo).id && at !== undefined && at * 1000 > now) next = Math.min(next, at * 1000);
    }
    if (loaded) campaignTimer = setTimeout(checkCampaigns, next - now + 1);
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
    void maybeReportImpressions();
    void maybeCount();
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

  /** Queues `releases` once each ({@link queueOnce}) under their purposes' caps, and sends when any queued. */
  async function release(db: Store, releases: Release[], now: number): Promise<void> {
    if (await queueOnce(db, releases, caps, now)) await sender.deliver();
  }

  /**
   * Creates this period's randomized reports under measurement, each once a week: the
   * segment report (unless the model counts segments securely: {@link maybeCount}
   * instead) and the lifecycle report (GRR over the four stages, in both modes), queued
   * in one transaction so they leave together in one request.
   */
  async function maybeReport(): Promise<void> {
    if (!db || !model || !current || !consentNow().measurement) return;
    const m = model;
    const now = Date.now();
    const period = isoWeekPeriod(now);
    const reports: Release[] = [];
    const add = (mark: Release['mark'], epsilon: number, label: string, value: number, kind?: 'lifecycle'): void => {
      const id = randomId();
      reports.push({ mark, value: period, epsilon, label: `${label} ${period}`, item: { id, purpose: 'measurement', createdAt: now, report: { id, model_version: m.version, period, value, ...(kind && { kind }) } } });
    };
    try {
      if (m.measurement !== 'secure') add('reportedPeriod', m.epsilon.report, 'report', grrEncode(current.id, m.k, m.epsilon.report));
      if (current.lifecycle) add('lifecyclePeriod', lifecycleEpsilon(m), 'lifecycle', lifecycleReportValue(m, current.lifecycle), 'lifecycle');
      await release(db, reports, now);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * Creates last week's impression report under measurement if none exists yet: every
   * consenting device sends exactly one per week while its model carries campaigns,
   * whatever it was shown (a randomized "none" when nothing), so neither the number nor
   * the timing nor the fields of what is sent depend on its segment or on what it saw;
   * only the randomized `value` does (shared/src/impressions.ts). A week is reported once
   * it is over, so the report covers all of it; campaign ids no longer in the active
   * model count as "none".
   */
  async function maybeReportImpressions(): Promise<void> {
    const m = model;
    if (!db || !m || !m.campaigns || !m.campaigns.length || !consentNow().measurement) return;
    const now = Date.now();
    const period = isoWeekPeriod(now - 7 * DAY_MS);
    const id = randomId();
    try {
      const shown = (await readKv(db, 'shown')) || {};
      const impression = { id, model_version: m.version, period, value: impressionValue(m, shown[period] || []) };
      await release(db, [{ mark: 'impressionPeriod', value: period, epsilon: impressionEpsilon(m), label: `impressions ${period}`, item: { id, purpose: 'measurement', createdAt: now, impression } }], now);
    } catch (err) {
      fail(err);
    }
  }

  /** Records, for this ISO week, that the app showed campaign `id` (kept for this week and last). */
  async function recordShown(id: string): Promise<void> {
    await ready;
    if (!db) return;
    const now = Date.now();
    const period = isoWeekPeriod(now);
    const lastWeek = isoWeekPeriod(now - 7 * DAY_MS);
    const tx = db.transaction('kv', 'readwrite');
    const stored = ((await tx.store.get('shown')) || {}) as Record<string, string[]>;
    const shown: Record<string, string[]> = { [lastWeek]: stored[lastWeek] || [], [period]: stored[period] || [] };
    if (!(shown[period] as string[]).includes(id)) (shown[period] as string[]).push(id);
    await Promise.all([tx.store.put(shown, 'shown'), tx.done]);
  }

  /** Runs `task` after the contribution checks before it; flush() waits for it. Never rejects. */
  function serially(task: () => Promise<void>): Promise<void> {
    return (contributing = contributing.then(() => task().catch(fail)));
  }

  /**
   * Joins open round `r` once: imports the chunk of its mode only when `value` is new
   * under `mark` and the round's ε fits the cap of the purpose `job.kind` spends (counts:
   * measurement; k-means: model_improvement); the chunk validates the round against the
   * signed model, builds the contribution and hands it back to {@link release}, which
   * queues it once and charges the ledger in one transaction, if `allowed()` still holds.
   */
  async function joinRound(store: Store, m: ModelManifest, r: RoundHead, mark: Mark, value: string, label: string, job: Pick<RoundJob, 'kind' | 'x' | 'counts'>, allowed: () => boolean, nowMs: number): Promise<void> {
    const purpose = job.kind === 'counts' ? 'measurement' : 'model_improvement';
    if (!(await fits(store.transaction(['kv', 'ledger']), mark, value, purpose, r.epsilon, caps[purpose], nowMs))) return;
    const chunk = await loadContributeChunk(r.mode);
    await chunk.join({
      ...job,
      round: r,
      model: m,
      helper: options.aggregators && options.aggregators.helper,
      nowMs,
      async queue(item, { epsilon }) {
        if (db && allowed()) await release(db, [{ mark, value, epsilon, label, item }], nowMs); // db: null once shut down
      },
    });
  }

  /**
   * Checks the open round (when `fetchRound`) and contributes to it under
   * model_improvement (with personalization, which the features need), once per round
   * id and within the 30-day ε cap ({@link joinRound}). Secure and local-mode rounds
   * alike; the round's own k and slices are used (k selection, a new k).
   */
  function contribute(fetchRound: boolean): Promise<void> {
    return serially(async () => {
      const m = model;
      const ok = (): boolean => consentNow().personalization && consentNow().model_improvement;
      if (!db || !m || !m.aggregators || !ok()) return;
      if (fetchRound) round = await fetchRoundHead(endpoint, 'kmeans');
      const r = round;
      const nowMs = Date.now();
      const raw = featureVector(features, nowMs);
      if (!r || !raw) return; // no features yet: the round waits for the next burst of events
      round = null;
      await joinRound(db, m, r, 'contributedRound', r.round_id, `round ${r.round_id}`, { kind: 'kmeans', x: standardise(raw, m.scaling.mean, m.scaling.scale) }, ok, nowMs);
    });
  }

  /**
   * Under measurement, when the signed model counts segments securely: contributes this
   * week's segment (a secret-shared one-hot, in the contribution chunk) to the week's
   * counts round, once per week, instead of a randomized report. Looks for the round once
   * per week, and again after each model fetch and daily (`retry`) while none is open.
   * With personalization on it waits for a segment; without, it counts as "no segment".
   */
  function maybeCount(retry = false): Promise<void> {
    if (retry) countsAsked = '';
    return serially(async () => {
      const m = model;
      const c = consentNow();
      const nowMs = Date.now();
      const period = isoWeekPeriod(nowMs);
      if (!db || !m || m.measurement !== 'secure' || !c.measurement || (c.personalization && !current) || countsAsked === period) return;
      countsAsked = period;
      if ((await readKv(db, 'countedPeriod')) === period) return;
      const r = await fetchRoundHead(endpoint, 'counts');
      const counts = { period, segment: current && current.id };
      if (r && r.period === period) await joinRound(db, m, r, 'countedPeriod', period, `counts ${period}`, { kind: 'counts', x: null, counts }, () => consentNow().measurement, nowMs);
    });
  }

  function activate(manifest: ModelManifest): void {
    model = manifest;
    centroids = flattenCentroids(manifest.centroids);
  }

  /** Stores a verified model as the last good one and makes it the active model. */
  async function adopt(db: Store, { manifest, cached }: VerifiedModel): Promise<void> {
    await writeKv(db, 'model', cached);
    activate(manifest);
  }

  async function loadModel(): Promise<void> {
    if (!db) return;
    try {
      const fresh = await fetchModel(endpoint, usable(await readKv(db, 'model')), verifier);
      if (fresh) {
        await adopt(db, fresh);
        recompute();
        await maybeReport();
      }
      await maybeReportImpressions();
    } catch (err) {
      fail(err);
    }
    void contribute(true); // at start, once the model (a new version or the cached one) is settled
    void maybeCount(true);
  }

  /**
   * Verifies and adopts the model bundled with the app when it is newer than the cached
   * one; its unverified payload is only peeked at to skip the verification chunk when
   * the cache is as new (the usual case after the first start).
   */
  async function loadBundledModel(cachedVersion: number): Promise<void> {
    const bundled = options.model;
    if (!db || !bundled) return;
    try {
      if ((JSON.parse(base64urlText(bundled.jws.split('.')[1] || '')) as { version?: unknown }).version as number <= cachedVersion) return;
      await adopt(db, await (await verifier())(bundled.jws, bundled.jwks.keys, { minVersion: cachedVersion + 1, nowMs: Date.now(), etag: null }));
    } catch (err) {
      fail(err);
    }
  }

  async function init(): Promise<void> {
    const opened = await openStore(dbName);
    db = opened;
    await purge();
    const [storedFeatures, storedConsent, cachedModel] = await Promise.all([readKv(opened, 'features'), readKv(opened, 'consent'), readKv(opened, 'model')]);
    if (storedFeatures && storedFeatures.v === features.v) features = storedFeatures;
    else fold(await opened.transaction('events').store.index('at').getAll()); // none yet, or another layout (schema change): rebuild from the event log
    if (storedConsent) choice = { ...defaults, ...storedConsent };
    const cached = usable(cachedModel);
    const manifest = cached ? (cached.manifest as ModelManifest) : null;
    if (manifest) activate(manifest);
    await loadBundledModel(manifest ? manifest.version : 0);
    loaded = true;
    const early = waiting;
    waiting = [];
    recompute();
    apply(early);
    dailyTimer = setInterval(() => {
      void purge();
      void maybeCount(true);
    }, DAY_MS); // neither rejects
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
        await maybeReportImpressions();
        void maybeCount();
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
    campaigns: () => campaignsAt(Date.now()),
    onCampaignsChange(cb) {
      campaignListeners.add(cb);
      return () => campaignListeners.delete(cb);
    },
    campaignShown(id) {
      if (model && model.campaigns && model.campaigns.some((c) => c.id === id)) recordShown(id).catch(fail);
      else fail(new Error(`edgeseg.campaignShown: ${String(id)} is not a campaign of the active model`));
    },
    onSegmentChange(cb) {
      segmentListeners.add(cb);
      return () => segmentListeners.delete(cb);
    },
    async exportData() {
      try {
        await ready;
        await writeQueued();
        if (!db) return null;
        const gpc = globalPrivacyControl();
        return await readExport(db, { appId, choice: { ...choice }, effective: effectiveConsent(choice, gpc), gpc, features, segment: current, caps: { ...caps }, modelVersion: model && model.version }, Date.now());
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
        checkCampaigns();
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
      clearTimeout(campaignTimer);
      listen(false);
      consentChannel?.close();
      db?.close();
      db = null;
    },
  };
}
