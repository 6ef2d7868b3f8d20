/**
 * Feature schema v1: the fixed, versioned list of on-device features. The order is the
 * order of every feature vector, centroid and scaling array that carries this schema id.
 */

export const FEATURE_SCHEMA_ID = 'edgeseg.features.v1';

/** How a raw aggregate becomes a feature value before standardisation. */
export type FeatureTransform = 'log1p' | 'ratio' | 'share';

export interface FeatureSpec {
  name: string;
  transform: FeatureTransform;
  /** Plain words, used for generated segment labels and "why am I seeing this". */
  description: string;
}

/** The genre families tracked as affinity shares; source genres map onto them. */
export const GENRE_FAMILIES = ['drama', 'comedy', 'action', 'thriller', 'horror', 'scifi_fantasy', 'romance', 'documentary', 'family'] as const;
export type GenreFamily = (typeof GENRE_FAMILIES)[number];

/**
 * Keys are genre names lowercased with everything but letters and digits removed, so
 * "Sci-Fi", "sci fi" and "SciFi", or "Children's" and "Children", are one key. Every
 * MovieLens genre is here except two left out on purpose: "IMAX" is a screen format,
 * not a taste, and "(no genres listed)" says nothing. A Map, so that a genre called
 * "constructor" cannot reach Object.prototype.
 */
const GENRE_ALIASES: ReadonlyMap<string, GenreFamily> = new Map<string, GenreFamily>([
  ['drama', 'drama'],
  ['comedy', 'comedy'],
  ['action', 'action'],
  ['adventure', 'action'],
  ['war', 'action'],
  ['western', 'action'],
  ['thriller', 'thriller'],
  ['crime', 'thriller'],
  ['mystery', 'thriller'],
  ['filmnoir', 'thriller'],
  ['noir', 'thriller'],
  ['horror', 'horror'],
  ['scifi', 'scifi_fantasy'],
  ['sciencefiction', 'scifi_fantasy'],
  ['fantasy', 'scifi_fantasy'],
  ['romance', 'romance'],
  ['documentary', 'documentary'],
  ['animation', 'family'],
  ['children', 'family'],
  ['childrens', 'family'],
  ['kids', 'family'],
  ['family', 'family'],
  ['musical', 'family'],
]);

/**
 * The genre family of a free-text genre name, or undefined when it is not tracked.
 *
 * @example
 * genreFamily('Crime') // 'thriller'
 * genreFamily('Sci-Fi') // 'scifi_fantasy'
 * genreFamily('IMAX') // undefined
 */
export function genreFamily(genre: string): GenreFamily | undefined {
  const key = genre.toLowerCase().replace(/[^a-z0-9]/g, '');
  return GENRE_ALIASES.get(key);
}

const NAMES = [
  // Engagement: rates over the tenure-aware effective window (see vector.ts).
  'sessions_per_week',
  'hours_per_week',
  'titles_per_week',
  'minutes_per_session',
  // Recency and tenure.
  'days_since_last',
  'tenure_days',
  'active_days_share',
  // Completion, per started title.
  'completion_rate',
  'skip_rate',
  'abandon_rate',
  'mean_watch_fraction',
  // Binge.
  'binge_ratio',
  'series_share',
  // Dayparts and weekend, in the device's local time, per start.
  'morning_share',
  'daytime_share',
  'evening_share',
  'late_night_share',
  'weekend_share',
  // Device mix, per start.
  'device_tv_share',
  'device_mobile_share',
  'device_desktop_share',
  'device_tablet_share',
  // Genre affinity, over GENRE_FAMILIES in order.
  'genre_drama_share',
  'genre_comedy_share',
  'genre_action_share',
  'genre_thriller_share',
  'genre_horror_share',
  'genre_scifi_fantasy_share',
  'genre_romance_share',
  'genre_documentary_share',
  'genre_family_share',
] as const;

/** The name of one v1 feature; lets code that fills or reads vectors by name be checked. */
export type FeatureName = (typeof NAMES)[number];

/** Feature names in vector order. */
export const FEATURE_NAMES_V1: readonly string[] = NAMES;

/** Number of dimensions of a v1 feature vector. */
export const FEATURE_DIM_V1 = NAMES.length;

/** How each feature is made and what it means in words; a Record, so none can be missing. */
const DETAILS: Readonly<Record<FeatureName, readonly [FeatureTransform, string]>> = {
  sessions_per_week: ['log1p', 'viewing sessions per week'],
  hours_per_week: ['log1p', 'hours watched per week'],
  titles_per_week: ['log1p', 'different titles started per week'],
  minutes_per_session: ['log1p', 'minutes watched per session'],
  days_since_last: ['log1p', 'days since last viewing'],
  tenure_days: ['log1p', 'days since first viewing'],
  active_days_share: ['share', 'share of days with any viewing'],
  completion_rate: ['ratio', 'share of started titles finished'],
  skip_rate: ['ratio', 'share of started titles skipped'],
  abandon_rate: ['ratio', 'share of started titles left unfinished'],
  mean_watch_fraction: ['ratio', 'average share of a title watched'],
  binge_ratio: ['ratio', 'share of sessions with three or more episodes of one series'],
  series_share: ['share', 'share of starts that are series episodes'],
  morning_share: ['share', 'share of viewing in the morning (05:00–12:00)'],
  daytime_share: ['share', 'share of viewing in the daytime (12:00–18:00)'],
  evening_share: ['share', 'share of viewing in the evening (18:00–23:00)'],
  late_night_share: ['share', 'share of viewing late at night (23:00–05:00)'],
  weekend_share: ['share', 'share of viewing at weekends'],
  device_tv_share: ['share', 'share of viewing on a TV'],
  device_mobile_share: ['share', 'share of viewing on a phone'],
  device_desktop_share: ['share', 'share of viewing on a computer'],
  device_tablet_share: ['share', 'share of viewing on a tablet'],
  genre_drama_share: ['share', 'drama'],
  genre_comedy_share: ['share', 'comedy'],
  genre_action_share: ['share', 'action, adventure, war and westerns'],
  genre_thriller_share: ['share', 'thriller, crime, mystery and film noir'],
  genre_horror_share: ['share', 'horror'],
  genre_scifi_fantasy_share: ['share', 'science fiction and fantasy'],
  genre_romance_share: ['share', 'romance'],
  genre_documentary_share: ['share', 'documentary'],
  genre_family_share: ['share', 'animation, children’s and musicals'],
};

/**
 * The full schema, names with transforms and descriptions. Built from the names (marked
 * pure) so that a bundle which only needs names and dimensions, like the device SDK,
 * leaves the descriptions out.
 */
export const FEATURE_SCHEMA_V1: readonly FeatureSpec[] = /* @__PURE__ */ NAMES.map((name) => ({
  name,
  transform: DETAILS[name][0],
  description: DETAILS[name][1],
}));
