/**
 * @edgeseg/client-sdk: on-device audience segmentation. One entry point,
 * `createSegmenter`; no side effects on import.
 *
 * @example
 * import { createSegmenter } from '@edgeseg/client-sdk';
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com' });
 *
 * @module @edgeseg/client-sdk
 */
export { createSegmenter, type ConsentApi, type EdgesegExport, type Segmenter, type SegmenterOptions, type SegmentInfo } from './segmenter.ts';
export type { ConsentState, Purpose } from './consent.ts';
export { EdgesegError, type EdgesegErrorCode, type EdgesegStage } from './errors.ts';
export type { Campaign, PlaybackEvent, DeviceType, PlaybackEventType, LifecycleStage, HpkeConfig } from '@edgeseg/shared';
// Types the public ones refer to (exportData() and the bundled-model option), so apps can name them.
export type { ConsentLogEntry, LedgerEntry, OutboxItem, RoundContribution, SegmentHistoryEntry, SentPayload, StoredEvent } from './store.ts';
export type { PublicJwk } from './jws.ts';
