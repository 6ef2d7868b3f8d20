import { isNumberIn, isObject, unknownKeys, type Checked } from './validate.ts';

/** Media events, after the Snowplow media model in spirit. */
export const PLAYBACK_EVENT_TYPES = ['play', 'pause', 'seek', 'complete', 'skip', 'heartbeat', 'ad_start'] as const;
/** `play`, `pause`, `seek`, `complete`, `skip`, `heartbeat` or `ad_start`. */
export type PlaybackEventType = (typeof PLAYBACK_EVENT_TYPES)[number];

export const DEVICE_TYPES = ['tv', 'mobile', 'desktop', 'tablet'] as const;
/** `tv`, `mobile`, `desktop` or `tablet`. */
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** One playback event as the host app passes it to `track()`. */
export interface PlaybackEvent {
  /** What happened. */
  type: PlaybackEventType;
  /** Your id of the title (film or episode): 1–200 characters. */
  contentId: string;
  /** Your id of the series an episode belongs to: 1–200 characters; binge-watching is counted per series. */
  seriesId?: string;
  /** Episode number within the series, 0–1,000,000. */
  episode?: number;
  /** The title's genres as your catalogue names them, at most 20 of 1–200 characters; the SDK maps them onto nine genre families (`genreFamily`). */
  genres: string[];
  /** The title's running time in seconds, 0–172,800 (48 h). */
  durationSec: number;
  /** The playhead in seconds when the event happened, 0–172,800. */
  positionSec: number;
  /** The kind of device playing. */
  device: DeviceType;
  /** Epoch milliseconds; the SDK fills in `Date.now()` when absent. */
  at?: number;
}

const EVENT_KEYS = ['type', 'contentId', 'seriesId', 'episode', 'genres', 'durationSec', 'positionSec', 'device', 'at'] as const;
const MAX_DURATION_SEC = 48 * 3600;
const MAX_ID_LENGTH = 200;

function isShortString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
}

/**
 * Checks an untrusted value against the `PlaybackEvent` shape and ranges.
 *
 * @example
 * const r = parsePlaybackEvent({ type: 'play', contentId: 'm1', genres: ['Drama'],
 *   durationSec: 5400, positionSec: 0, device: 'tv' });
 * if (r.ok) console.log(r.value.type);
 */
export function parsePlaybackEvent(v: unknown): Checked<PlaybackEvent> {
  if (!isObject(v)) return { ok: false, errors: ['event: must be an object'] };
  const errors = unknownKeys(v, EVENT_KEYS).map((k) => `${k}: unknown field`);
  if (!PLAYBACK_EVENT_TYPES.includes(v.type as PlaybackEventType)) errors.push(`type: must be one of ${PLAYBACK_EVENT_TYPES.join(', ')}`);
  if (!isShortString(v.contentId)) errors.push('contentId: must be a non-empty string of at most 200 characters');
  if (v.seriesId !== undefined && !isShortString(v.seriesId)) errors.push('seriesId: must be a non-empty string');
  if (v.episode !== undefined && !isNumberIn(v.episode, 0, 1e6)) errors.push('episode: must be a number ≥ 0');
  if (!Array.isArray(v.genres) || v.genres.length > 20 || !v.genres.every(isShortString)) errors.push('genres: must be an array of at most 20 strings');
  if (!isNumberIn(v.durationSec, 0, MAX_DURATION_SEC)) errors.push('durationSec: must be a number in [0, 172800]');
  if (!isNumberIn(v.positionSec, 0, MAX_DURATION_SEC)) errors.push('positionSec: must be a number in [0, 172800]');
  if (!DEVICE_TYPES.includes(v.device as DeviceType)) errors.push(`device: must be one of ${DEVICE_TYPES.join(', ')}`);
  if (v.at !== undefined && !isNumberIn(v.at, 0, 8.64e15)) errors.push('at: must be epoch milliseconds');
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as PlaybackEvent };
}
