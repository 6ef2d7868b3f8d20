/**
 * @edgeseg/client-sdk: on-device audience segmentation. One entry point,
 * `createSegmenter`; no side effects on import.
 *
 * @example
 * import { createSegmenter } from '@edgeseg/client-sdk';
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com' });
 */
export { createSegmenter, type ConsentApi, type EdgesegExport, type Segmenter, type SegmenterOptions, type SegmentInfo } from './segmenter.ts';
export type { ConsentState, Purpose } from './consent.ts';
export { EdgesegError, type EdgesegErrorCode, type EdgesegStage } from './errors.ts';
export type { Campaign, PlaybackEvent, DeviceType, PlaybackEventType, LifecycleStage } from '@edgeseg/shared';
