import { DEVICE_TYPES, type DeviceType } from '../events.ts';
import { FEATURE_DIM_V1, FEATURE_NAMES_V1, GENRE_FAMILIES, type FeatureName, type GenreFamily } from './schema.ts';
import { DAY_MS, DAYPARTS, DECAY_HALF_LIFE_DAYS, SESSION_GAP_MS, decayFactor, isAbandoned, localDay, type FeatureState } from './state.ts';

/**
 * Days of history that the decayed sums stand for: ∫₀ᵀ 2^(−t/H) dt for tenure T, at
 * least one day. Dividing a decayed sum by it gives an honest rate for a viewer of any
 * tenure (a two-day-old viewer is not diluted over four weeks).
 */
function effectiveWindowDays(tenureDays: number): number {
  const meanLife = DECAY_HALF_LIFE_DAYS / Math.LN2;
  return Math.max(1, meanLife * (1 - 2 ** (-tenureDays / DECAY_HALF_LIFE_DAYS)));
}

/**
 * The same window counted in whole local days, as activeDays counts them: Σ over every
 * day from the first viewing day to today of the decay at its midnight. Geometric, so
 * O(1) whatever the tenure.
 */
function decayedDaysSinceFirst(s: FeatureState, now: number): number {
  const today = localDay(now, s.tzOffsetMin);
  const span = Math.max(0, today.day - (s.firstDay ?? today.day));
  const f = decayFactor(DAY_MS);
  return (decayFactor(now - today.midnightMs) * (1 - f ** (span + 1))) / (1 - f);
}

function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}

// Resolved once: the vector is filled by name, so the schema's order is the only order.
const INDEX: ReadonlyMap<string, number> = new Map(FEATURE_NAMES_V1.map((name, i) => [name, i]));

/**
 * The raw (unstandardised) v1 feature vector at time `nowMs`, or null before any event.
 * Every sum in the state refers to `decayedAt`, so a ratio of two sums needs no decay
 * and a rate or a sum mixed with something dated otherwise is decayed to `nowMs` first.
 *
 * @example
 * const x = featureVector(state, Date.now()); // Float32Array(31), FEATURE_NAMES_V1 order
 */
export function featureVector(s: FeatureState, nowMs: number): Float32Array | null {
  if (s.firstAt === null || s.lastAt === null) return null;
  const now = Math.max(nowMs, s.lastAt);
  const toNow = decayFactor(now - s.decayedAt);
  const tenureDays = (now - s.firstAt) / DAY_MS;
  const perWeek = (7 / effectiveWindowDays(tenureDays)) * toNow;
  // A title still open after its session ended is an abandon unless the viewer resumes
  // it, so it counts now, at the weight of the session's end, as it will if they don't.
  const endedAt = s.lastAt + SESSION_GAP_MS;
  const pendingAbandon = s.playing && now > endedAt && isAbandoned(s.playing) ? decayFactor(now - endedAt) : 0;
  const perStart = (part: number): number => share(part, s.starts);
  const device = (d: DeviceType): number => perStart(s.device[DEVICE_TYPES.indexOf(d)] as number);
  const genreTotal = s.genre.reduce((a, b) => a + b, 0);
  const genre = (g: GenreFamily): number => share(s.genre[GENRE_FAMILIES.indexOf(g)] as number, genreTotal);
  const daypart = (p: (typeof DAYPARTS)[number]): number => perStart(s.daypart[DAYPARTS.indexOf(p)] as number);

  // A Record, so that leaving a feature out or misspelling one fails to compile.
  const values: Record<FeatureName, number> = {
    sessions_per_week: Math.log1p(s.sessions * perWeek),
    hours_per_week: Math.log1p((s.watchSec / 3600) * perWeek),
    titles_per_week: Math.log1p(s.titles * perWeek),
    minutes_per_session: Math.log1p(s.sessions > 0 ? s.watchSec / 60 / s.sessions : 0),
    days_since_last: Math.log1p((now - s.lastAt) / DAY_MS),
    tenure_days: Math.log1p(tenureDays),
    active_days_share: share(s.activeDays * toNow, decayedDaysSinceFirst(s, now)),
    completion_rate: perStart(s.completes),
    skip_rate: perStart(s.skips),
    abandon_rate: share(s.abandons * toNow + pendingAbandon, s.starts * toNow),
    mean_watch_fraction: share(s.watchFraction, s.timedStarts),
    binge_ratio: share(s.bingeSessions, s.sessions),
    series_share: perStart(s.seriesStarts),
    morning_share: daypart('morning'),
    daytime_share: daypart('daytime'),
    evening_share: daypart('evening'),
    late_night_share: daypart('late_night'),
    weekend_share: perStart(s.weekend),
    device_tv_share: device('tv'),
    device_mobile_share: device('mobile'),
    device_desktop_share: device('desktop'),
    device_tablet_share: device('tablet'),
    genre_drama_share: genre('drama'),
    genre_comedy_share: genre('comedy'),
    genre_action_share: genre('action'),
    genre_thriller_share: genre('thriller'),
    genre_horror_share: genre('horror'),
    genre_scifi_fantasy_share: genre('scifi_fantasy'),
    genre_romance_share: genre('romance'),
    genre_documentary_share: genre('documentary'),
    genre_family_share: genre('family'),
  };
  const x = new Float32Array(FEATURE_DIM_V1);
  for (const [name, value] of Object.entries(values)) x[INDEX.get(name) as number] = value;
  return x;
}
