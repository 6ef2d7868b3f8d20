/**
 * Running feature aggregates, updated incrementally per event with exponential decay:
 * the hot path is O(genres) per event and never replays the event log.
 */
import { DEVICE_TYPES, type PlaybackEvent } from '../events.ts';
import { GENRE_FAMILIES, genreFamily } from './schema.ts';

/** Half-life of every decayed sum: viewing from four weeks ago counts half. */
export const DECAY_HALF_LIFE_DAYS = 28;
/** A gap longer than this between events starts a new session. */
export const SESSION_GAP_MS = 30 * 60_000;
export const DAY_MS = 86_400_000;

/** The decayed sums behind feature vector v1. Plain JSON so it can live in IndexedDB. */
export interface FeatureState {
  v: 1;
  /** Epoch ms of the first and last event, null before any event. */
  firstAt: number | null;
  lastAt: number | null;
  /** The time every decayed sum below refers to. */
  decayedAt: number;
  sessions: number;
  watchSec: number;
  titles: number;
  starts: number;
  completes: number;
  skips: number;
  evening: number;
  weekend: number;
  /** Decayed starts per device type, in DEVICE_TYPES order. */
  device: number[];
  /** Decayed starts per genre family, in GENRE_FAMILIES order (split evenly over an event's families). */
  genre: number[];
  /** The title now playing and the position its watch time is counted from. */
  playing: { contentId: string; fromSec: number } | null;
  lastContentId: string | null;
}

/**
 * A state with no viewing yet.
 *
 * @example
 * const state = emptyFeatureState();
 */
export function emptyFeatureState(): FeatureState {
  return {
    v: 1,
    firstAt: null,
    lastAt: null,
    decayedAt: 0,
    sessions: 0,
    watchSec: 0,
    titles: 0,
    starts: 0,
    completes: 0,
    skips: 0,
    evening: 0,
    weekend: 0,
    device: DEVICE_TYPES.map(() => 0),
    genre: GENRE_FAMILIES.map(() => 0),
    playing: null,
    lastContentId: null,
  };
}

/**
 * The decay factor for a time span: 2^(−Δt / half-life).
 *
 * @example
 * decayFactor(28 * DAY_MS) // 0.5
 */
export function decayFactor(spanMs: number): number {
  return 2 ** (-spanMs / (DECAY_HALF_LIFE_DAYS * DAY_MS));
}

const DECAYED_SCALARS = ['sessions', 'watchSec', 'titles', 'starts', 'completes', 'skips', 'evening', 'weekend'] as const;

function decayTo(s: FeatureState, at: number): void {
  if (at <= s.decayedAt) return;
  const f = decayFactor(at - s.decayedAt);
  for (const key of DECAYED_SCALARS) s[key] *= f;
  for (let i = 0; i < s.device.length; i++) s.device[i] = (s.device[i] as number) * f;
  for (let i = 0; i < s.genre.length; i++) s.genre[i] = (s.genre[i] as number) * f;
  s.decayedAt = at;
}

/**
 * Folds one validated event into the state, in place, and returns it. `tzOffsetMin` is
 * the device's `Date#getTimezoneOffset()` so dayparts and weekends are local. An event
 * older than the state's clock is weighted down by its age instead of rewinding.
 *
 * @example
 * const s = emptyFeatureState();
 * updateFeatureState(s, { type: 'play', contentId: 'm1', genres: ['Drama'],
 *   durationSec: 5400, positionSec: 0, device: 'tv', at: Date.now() }, 0);
 */
export function updateFeatureState(s: FeatureState, e: PlaybackEvent, tzOffsetMin: number): FeatureState {
  const at = e.at ?? Date.now();
  decayTo(s, at);
  const w = at < s.decayedAt ? decayFactor(s.decayedAt - at) : 1;

  if (s.lastAt === null || Math.abs(at - s.lastAt) > SESSION_GAP_MS) s.sessions += w;
  s.firstAt = s.firstAt === null ? at : Math.min(s.firstAt, at);
  s.lastAt = s.lastAt === null ? at : Math.max(s.lastAt, at);

  const playing = s.playing && s.playing.contentId === e.contentId ? s.playing : null;
  // A seek's position is where playback jumped to: the span it skips was not watched.
  if (playing && e.type !== 'play' && e.type !== 'seek' && e.type !== 'ad_start') {
    const watched = Math.min(Math.max(e.positionSec - playing.fromSec, 0), e.durationSec);
    s.watchSec += w * watched;
    playing.fromSec = e.positionSec;
  }

  switch (e.type) {
    case 'play':
      if (!playing) {
        s.starts += w;
        if (s.lastContentId !== e.contentId) s.titles += w;
        const local = new Date(at - tzOffsetMin * 60_000);
        if (local.getUTCHours() >= 18) s.evening += w;
        const day = local.getUTCDay();
        if (day === 0 || day === 6) s.weekend += w;
        const d = DEVICE_TYPES.indexOf(e.device);
        s.device[d] = (s.device[d] as number) + w;
        const families = [...new Set(e.genres.map(genreFamily).filter((g) => g !== undefined))];
        for (const g of families) {
          const i = GENRE_FAMILIES.indexOf(g);
          s.genre[i] = (s.genre[i] as number) + w / families.length;
        }
      }
      s.playing = { contentId: e.contentId, fromSec: e.positionSec };
      s.lastContentId = e.contentId;
      break;
    case 'seek':
      if (playing) playing.fromSec = e.positionSec;
      break;
    case 'complete':
      s.completes += w;
      s.playing = null;
      break;
    case 'skip':
      s.skips += w;
      s.playing = null;
      break;
    default:
      break;
  }
  return s;
}
