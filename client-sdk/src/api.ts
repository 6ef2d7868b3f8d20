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
  /** ε the device may spend per purpose in any 30 days (default: measurement 20, i.e. 5 weeks of segment + lifecycle + impression reports at the bootstrap model's ε; model_improvement 10). */
  budget?: { measurement?: number; model_improvement?: number };
  /**
   * The helper aggregator's HPKE key, pinned by the app itself (from the helper's operator,
   * not from the leader). When given, the device refuses any round or model that names
   * another helper key: the leader signs the model, so without this a malicious leader
   * could sign its own key in as the helper's and open both shares.
   */
  aggregators?: { helper: HpkeConfig };
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
  /** Campaign ids the app showed, per ISO week (this week and last week); always present in exports from this SDK. */
  campaignsShown?: KvValues['shown'];
  /** Per purpose, the exact last payload that left this device (`body` as sent), when the server accepted it. */
  lastSent: KvValues['lastSent'];
  model: { version: number } | null;
}

export interface Segmenter {
  /** Resolves when stored state is loaded and the first model fetch has settled. Never rejects. */
  readonly ready: Promise<void>;
  /** Records a playback event. Invalid events go to `onError`; never throws. */
  track(event: PlaybackEvent): void;
  segment(): SegmentInfo | null;
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
