/**
 * The SDK's public types: options, the segment, the consent API, the export format and
 * the segmenter itself.
 */
import type { Campaign, FeatureState, HpkeConfig, LifecycleStage, PlaybackEvent } from '@edgeseg/shared';
import type { ConsentState } from './consent.ts';
import type { EdgesegError } from './errors.ts';
import type { PublicJwk } from './jws.ts';
import type { ConsentLogEntry, KvValues, LedgerEntry, OutboxItem, SegmentHistoryEntry, StoredEvent } from './store.ts';

export interface SegmenterOptions {
  /** Base URL of the edgeseg Worker, e.g. `https://edge.example.com`. */
  endpoint: string;
  /** Your app's id; it namespaces what the SDK stores on the device. */
  appId?: string;
  /** A signed model shipped with the app (used until a newer one is fetched; verified like a fetched one). */
  model?: { jws: string; jwks: { keys: PublicJwk[] } };
  /** Consent before the viewer has chosen. Default: personalization on, measurement and model_improvement off. */
  purposesDefault?: Partial<ConsentState>;
  /**
   * Called once per problem (invalid options or event, insecure context, storage, model,
   * network, refused payloads) with an {@link EdgesegError} whose `code` and `stage` are
   * stable. Nothing is ever thrown into your app.
   */
  onError?: (error: EdgesegError) => void;
  /**
   * Logs each decision to the console (`console.debug`, prefixed `[edgeseg]`): why there is
   * no segment yet, why nothing was sent (consent, Global Privacy Control, budget, no model,
   * week already reported), and every error. Default false.
   */
  debug?: boolean;
  /**
   * Store and send nothing until the viewer or a consent platform answers, i.e. until the
   * first `consent.set()` (see `@edgeseg/client-sdk/cmp`). Until then events are kept in
   * memory only (at most 1,000) and no request is made. Default false.
   */
  waitForConsent?: boolean;
  /** Days of events and segment history kept on the device (default 90). */
  retentionDays?: number;
  /**
   * The device's privacy budget: ε it may spend on `measurement` and on
   * `model_improvement` in any 30 days (default 2 each), and on everything together in any
   * 365 days (`total_365d`, default 11, composed under zCDP at δ = 1e-9). These defaults
   * are also the ceilings: an app may lower them, never raise them (a higher value is kept
   * at the default and said through `debug`), because the preference centre tells viewers
   * these figures. The ledger survives `eraseData()`, so erasing never resets the budget.
   *
   * @example
   * createSegmenter({ endpoint, budget: { measurement: 1 } }) // half the default measurement budget
   */
  budget?: { measurement?: number; model_improvement?: number; total_365d?: number };
  /**
   * The helper aggregator's HPKE key, pinned by the app itself: from the app's own
   * configuration, as the helper's operator publishes it (at the helper's
   * `/.well-known/hpke-configs`), never from the leader. **Required for secure mode** (a
   * model with `measurement: 'secure'`, or secure k-means rounds): without it the device
   * contributes nothing there and reports one `helper-not-pinned` error. The device
   * refuses any round or model that names another helper key (the leader signs the model,
   * so a malicious leader could otherwise sign its own key in as the helper's and open
   * both shares), and, while a helper is pinned, any local-mode round (which would leave
   * the helper out).
   */
  aggregators?: { helper: HpkeConfig };
}

/** The viewer's current segment, computed on the device. */
export interface SegmentInfo {
  /** Index of the nearest centroid of the active model, `0 … k-1`; campaigns target it. */
  id: number;
  /** The model's words for the segment, e.g. "Weekend evening binge-watchers of drama and crime on TV". */
  label: string;
  /** The lifecycle stage by the model's rules, or null before any event. */
  lifecycle: LifecycleStage | null;
  /** Version of the signed model the segment was computed with; ids are only comparable within one version. */
  modelVersion: number;
  /** Epoch milliseconds when it was computed. */
  computedAt: number;
}

/**
 * The viewer's consent, per purpose: read it, change it, follow changes (including those
 * made in another tab, such as the preference centre).
 *
 * @example
 * await seg.consent.set({ measurement: true });
 * seg.consent.onChange((c) => console.log(c.measurement));
 */
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
  /** The format's name and version. */
  format: 'edgeseg-export/1';
  /** ISO 8601 time of the export. */
  exportedAt: string;
  /** The `appId` the data is stored under (null: none given). */
  appId: string | null;
  /** The viewer's choice, the consent in force (Global Privacy Control applied), and whether GPC is on. */
  consent: { choice: ConsentState; effective: ConsentState; globalPrivacyControl: boolean };
  /** The playback events kept on the device (within `retentionDays`). */
  events: StoredEvent[];
  /** The decayed running sums the features come from, and the feature vector by name (null before any event). */
  features: { state: FeatureState; vector: Record<string, number> | null };
  /** The current segment, as `segment()` returns it. */
  segment: SegmentInfo | null;
  /** Each change of segment or lifecycle stage (within `retentionDays`). */
  segmentHistory: SegmentHistoryEntry[];
  /** Each consent change, with whether GPC was on. */
  consentLog: ConsentLogEntry[];
  /**
   * ε spent per release (with its zCDP ρ), the sum over the last 30 days per purpose, the
   * spend per window (`spent`: 30 days per purpose, 30 and 365 days in total under zCDP at
   * δ = 1e-9) and the budget (`cap`, the same windows).
   */
  privacyLedger: {
    entries: LedgerEntry[];
    spentLast30Days: Record<LedgerEntry['purpose'], number>;
    spent: { measurement_30d: number; model_improvement_30d: number; total_30d: number; total_365d: number };
    cap: { measurement: number; model_improvement: number; total_365d: number };
  };
  /** Payloads waiting to be sent (ε already charged). */
  outbox: OutboxItem[];
  /** Campaign ids the app showed, per ISO week (this week and last week); always present in exports from this SDK. */
  campaignsShown?: KvValues['shown'];
  /** Per purpose, the exact last payload that left this device (`body` as sent), when the server accepted it. */
  lastSent: KvValues['lastSent'];
  /**
   * The randomized answer drawn once per true value for weekly reports (kind, model version,
   * k, ε and true value → the answer sent every week); always present in exports from this SDK.
   */
  randomizedAnswers?: Record<string, number>;
  /** Version of the active model (null: none yet). */
  model: { version: number } | null;
}

/**
 * What `createSegmenter` returns. Every method returns at once or resolves; none throws
 * or rejects: problems go to `onError`.
 *
 * @example
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com', appId: 'streambox' });
 * seg.onSegmentChange((s) => console.log(s ? s.label : 'no segment yet'));
 */
export interface Segmenter {
  /**
   * Resolves when stored state is loaded and the first model fetch has settled (with
   * `waitForConsent`, not before the first `consent.set()`). Never rejects.
   */
  readonly ready: Promise<void>;
  /** Records a playback event. Invalid events go to `onError`; never throws. */
  track(event: PlaybackEvent): void;
  /**
   * The viewer's segment, computed on the device; null while there is no model or no
   * event yet, or without personalization (`debug: true` logs which).
   */
  segment(): SegmentInfo | null;
  /** Subscribes to changes of `segment()` (new events, a new model, a consent change); returns the unsubscribe function. */
  onSegmentChange(cb: (segment: SegmentInfo | null) => void): () => void;
  /**
   * The campaigns of the active signed model that target the viewer's current segment
   * and are within their time window (none without a segment, i.e. without
   * personalization). Decided on the device: the server never learns who matched.
   * Render `title`, `body` and `items` as text, never as HTML.
   */
  campaigns(): Campaign[];
  /** Subscribes to changes of `campaigns()` (a new model or segment, a window opening or closing); returns the unsubscribe function. */
  onCampaignsChange(cb: (campaigns: Campaign[]) => void): () => void;
  /**
   * Records on the device that the app showed campaign `id` this week. It leaves only
   * inside next week's randomized impression report, which every device with
   * measurement sends whether or not it was shown anything.
   */
  campaignShown(id: string): void;
  /** The viewer's consent per purpose. */
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
