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
/** A title left before this share of its duration counts as abandoned. */
export const ABANDON_BEFORE_FRACTION = 0.9;
/** Episodes of one series started back to back in a session that make it a binge. */
export const BINGE_EPISODES = 3;
/**
 * The shape version of FeatureState. A stored state with another `v` cannot be folded
 * into (its sums mean other things): discard it and start from `emptyFeatureState()`.
 */
export const FEATURE_STATE_VERSION = 2;

/** FeatureState.daypart order, by local hour: morning [5, 12), daytime [12, 18), evening [18, 23), late_night [23, 5). */
export const DAYPARTS = ['morning', 'daytime', 'evening', 'late_night'] as const;

/** The decayed sums behind feature vector v1. Plain JSON so it can live in IndexedDB. */
export interface FeatureState {
  v: typeof FEATURE_STATE_VERSION;
  /** Epoch ms of the first and last event, null before any event. */
  firstAt: number | null;
  lastAt: number | null;
  /** The time every decayed sum below refers to. */
  decayedAt: number;
  /** `Date#getTimezoneOffset()` of the latest event: featureVector has no clock of its own to ask. */
  tzOffsetMin: number;
  sessions: number;
  watchSec: number;
  titles: number;
  starts: number;
  completes: number;
  skips: number;
  abandons: number;
  /**
   * Σ over opened titles with a duration of min(1, watched / duration), added as the
   * watching happens (an open title counts with what it has so far), and their count.
   */
  watchFraction: number;
  timedStarts: number;
  /** Sessions in which BINGE_EPISODES episodes of one series were started back to back. */
  bingeSessions: number;
  /** Starts that carry a seriesId. */
  seriesStarts: number;
  /** Decayed starts per local daypart, in DAYPARTS order. */
  daypart: number[];
  weekend: number;
  /** Decayed starts per device type, in DEVICE_TYPES order. */
  device: number[];
  /** Decayed starts per genre family, in GENRE_FAMILIES order (split evenly over an event's families). */
  genre: number[];
  /**
   * Decayed count of local calendar days with any event, each weighted by the decay at
   * its local midnight, so that featureVector can divide by the same sum over every
   * day since the first and a viewer who watched every day gets exactly 1.
   */
  activeDays: number;
  /**
   * Local day numbers (days since 1970-01-01 on the device clock) of the first and the
   * latest day with viewing; bit i of `dayMask` is set when day `lastDay − i` is already
   * counted. 32 days of bits let a late event be checked without keeping a set of days.
   */
  firstDay: number | null;
  lastDay: number | null;
  dayMask: number;
  /** The title now open: where its watch time is counted from, how far it got, how much was watched. */
  playing: { contentId: string; fromSec: number; maxSec: number; watchedSec: number; durationSec: number } | null;
  /** The current sitting's run of back-to-back episodes of one series. */
  sitting: { seriesId: string | null; episodes: number; binged: boolean };
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
    v: FEATURE_STATE_VERSION,
    firstAt: null,
    lastAt: null,
    decayedAt: 0,
    tzOffsetMin: 0,
    sessions: 0,
    watchSec: 0,
    titles: 0,
    starts: 0,
    completes: 0,
    skips: 0,
    abandons: 0,
    watchFraction: 0,
    timedStarts: 0,
    bingeSessions: 0,
    seriesStarts: 0,
    daypart: DAYPARTS.map(() => 0),
    weekend: 0,
    device: DEVICE_TYPES.map(() => 0),
    genre: GENRE_FAMILIES.map(() => 0),
    activeDays: 0,
    firstDay: null,
    lastDay: null,
    dayMask: 0,
    playing: null,
    sitting: { seriesId: null, episodes: 0, binged: false },
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

/**
 * The day number of an instant on a clock `tzOffsetMin` behind UTC, and the epoch ms of
 * that local day's midnight.
 *
 * @example
 * localDay(Date.UTC(2026, 10, 20, 23, 30), -120) // { day: 20778, midnightMs: Date.UTC(2026, 10, 20, 22) }: Saturday 01:30 in UTC+2
 */
export function localDay(atMs: number, tzOffsetMin: number): { day: number; midnightMs: number } {
  const offsetMs = tzOffsetMin * 60_000;
  const day = Math.floor((atMs - offsetMs) / DAY_MS);
  return { day, midnightMs: day * DAY_MS + offsetMs };
}

/**
 * The daypart index (into DAYPARTS) of a local hour 0–23.
 *
 * @example
 * daypartOf(23) // 3, late_night
 */
export function daypartOf(localHour: number): number {
  if (localHour >= 5 && localHour < 12) return 0;
  if (localHour >= 12 && localHour < 18) return 1;
  if (localHour >= 18 && localHour < 23) return 2;
  return 3;
}

/**
 * Whether an open title counts as abandoned if it is left now. A title with no duration
 * (a live stream) cannot be left part-way.
 *
 * @example
 * isAbandoned({ contentId: 'm1', fromSec: 0, maxSec: 600, watchedSec: 600, durationSec: 3600 }) // true
 */
export function isAbandoned(open: NonNullable<FeatureState['playing']>): boolean {
  return open.durationSec > 0 && open.maxSec < ABANDON_BEFORE_FRACTION * open.durationSec;
}

const DECAYED_SCALARS = [
  'sessions',
  'watchSec',
  'titles',
  'starts',
  'completes',
  'skips',
  'abandons',
  'watchFraction',
  'timedStarts',
  'bingeSessions',
  'seriesStarts',
  'weekend',
  'activeDays',
] as const;
const DECAYED_ARRAYS = ['daypart', 'device', 'genre'] as const;

function decayTo(s: FeatureState, at: number): void {
  if (at <= s.decayedAt) return;
  const f = decayFactor(at - s.decayedAt);
  for (const key of DECAYED_SCALARS) s[key] *= f;
  for (const key of DECAYED_ARRAYS) {
    const a = s[key];
    for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) * f;
  }
  s.decayedAt = at;
}

/** Counts the local day of `at` once, however many events it has and in whatever order they come. */
function countDay(s: FeatureState, at: number, tzOffsetMin: number): void {
  const { day, midnightMs } = localDay(at, tzOffsetMin);
  s.firstDay = s.firstDay === null ? day : Math.min(s.firstDay, day);
  if (s.lastDay === null || day > s.lastDay) {
    const shift = s.lastDay === null ? 32 : day - s.lastDay;
    s.dayMask = shift >= 32 ? 1 : ((s.dayMask << shift) | 1) >>> 0;
    s.lastDay = day;
  } else {
    const back = s.lastDay - day;
    // Older than the mask reaches: weighted under half anyway, and counting it could count a day twice.
    if (back >= 32 || (s.dayMask >>> back) & 1) return;
    s.dayMask = (s.dayMask | (1 << back)) >>> 0;
  }
  // decayTo has run, so decayedAt ≥ at ≥ midnight and this weight is the decay since midnight.
  s.activeDays += decayFactor(s.decayedAt - midnightMs);
}

/**
 * Folds one validated event into the state, in place, and returns it. `tzOffsetMin` is
 * the device's `Date#getTimezoneOffset()` so dayparts, weekends and days are local. An
 * event older than the state's clock is weighted down by its age instead of rewinding.
 *
 * Abandon, precisely: a started title is abandoned when it is left with neither a
 * `complete` nor a `skip`, its furthest reported position (any event, seeks included)
 * below ABANDON_BEFORE_FRACTION of its duration. It is left when a `play` of another
 * title arrives, or when the session ends (more than SESSION_GAP_MS passes) and the next
 * event is not for it: a next-day resume of the same title is not an abandon. A session
 * end is counted at lastAt + SESSION_GAP_MS, which is also when featureVector starts
 * counting a still-open title provisionally.
 *
 * An event more than SESSION_GAP_MS older than the latest one belongs to a sitting that
 * is over: it adds to the sums, weighted by age, but does not open, close or resume a
 * title nor touch the current sitting's binge run.
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
  const prevLastAt = s.lastAt;
  const newSession = prevLastAt === null || Math.abs(at - prevLastAt) > SESSION_GAP_MS;
  const late = prevLastAt !== null && at < prevLastAt - SESSION_GAP_MS;

  if (newSession) s.sessions += w;
  s.firstAt = s.firstAt === null ? at : Math.min(s.firstAt, at);
  s.lastAt = s.lastAt === null ? at : Math.max(s.lastAt, at);
  countDay(s, at, tzOffsetMin);

  if (!late) {
    s.tzOffsetMin = tzOffsetMin;
    const open = s.playing;
    if (open && open.contentId !== e.contentId && (e.type === 'play' || newSession)) {
      if (isAbandoned(open)) {
        const leftAt = newSession && prevLastAt !== null ? prevLastAt + SESSION_GAP_MS : at;
        s.abandons += decayFactor(s.decayedAt - leftAt);
      }
      s.playing = null;
    }
    if (newSession) s.sitting = { seriesId: null, episodes: 0, binged: false };
  }

  const playing = !late && s.playing?.contentId === e.contentId ? s.playing : null;
  if (playing) playing.maxSec = Math.max(playing.maxSec, e.positionSec);
  // A seek's position is where playback jumped to: the span it skips was not watched.
  if (playing && e.type !== 'play' && e.type !== 'seek' && e.type !== 'ad_start') {
    const watched = Math.min(Math.max(e.positionSec - playing.fromSec, 0), e.durationSec);
    s.watchSec += w * watched;
    if (playing.durationSec > 0) {
      const before = Math.min(playing.watchedSec, playing.durationSec);
      const after = Math.min(playing.watchedSec + watched, playing.durationSec);
      s.watchFraction += (w * (after - before)) / playing.durationSec;
    }
    playing.watchedSec += watched;
    playing.fromSec = e.positionSec;
  }

  switch (e.type) {
    case 'play':
      if (playing) {
        playing.fromSec = e.positionSec;
        break;
      }
      countStart(s, e, at, tzOffsetMin, w);
      if (late) break;
      s.playing = { contentId: e.contentId, fromSec: e.positionSec, maxSec: e.positionSec, watchedSec: 0, durationSec: e.durationSec };
      if (e.durationSec > 0) s.timedStarts += w;
      advanceSitting(s, e, w);
      s.lastContentId = e.contentId;
      break;
    case 'seek':
      if (playing) playing.fromSec = e.positionSec;
      break;
    case 'complete':
      s.completes += w;
      if (playing) s.playing = null;
      break;
    case 'skip':
      s.skips += w;
      if (playing) s.playing = null;
      break;
    default:
      break;
  }
  return s;
}

/** The per-start shares: titles, series, daypart, weekend, device and genre. */
function countStart(s: FeatureState, e: PlaybackEvent, at: number, tzOffsetMin: number, w: number): void {
  s.starts += w;
  if (s.lastContentId !== e.contentId) s.titles += w;
  if (e.seriesId !== undefined) s.seriesStarts += w;
  const local = new Date(at - tzOffsetMin * 60_000);
  const p = daypartOf(local.getUTCHours());
  s.daypart[p] = (s.daypart[p] as number) + w;
  const weekday = local.getUTCDay();
  if (weekday === 0 || weekday === 6) s.weekend += w;
  const d = DEVICE_TYPES.indexOf(e.device);
  s.device[d] = (s.device[d] as number) + w;
  const families = [...new Set(e.genres.map(genreFamily).filter((g) => g !== undefined))];
  for (const g of families) {
    const i = GENRE_FAMILIES.indexOf(g);
    s.genre[i] = (s.genre[i] as number) + w / families.length;
  }
}

/**
 * Back to back, not merely in the same session: anything else started in between ends
 * the run. That keeps the state to one series id instead of a count per series; a new
 * start of the episode just started (a restart) does not lengthen the run.
 */
function advanceSitting(s: FeatureState, e: PlaybackEvent, w: number): void {
  const run = s.sitting;
  if (e.seriesId === undefined) {
    run.seriesId = null;
    run.episodes = 0;
  } else if (run.seriesId !== e.seriesId) {
    run.seriesId = e.seriesId;
    run.episodes = 1;
  } else if (s.lastContentId !== e.contentId) {
    run.episodes += 1;
  }
  if (run.episodes >= BINGE_EPISODES && !run.binged) {
    run.binged = true;
    s.bingeSessions += w;
  }
}
