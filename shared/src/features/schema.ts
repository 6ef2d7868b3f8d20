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
export const GENRE_FAMILIES = ['drama', 'comedy', 'action', 'thriller'] as const;
export type GenreFamily = (typeof GENRE_FAMILIES)[number];

const GENRE_ALIASES: Record<string, GenreFamily> = {
  drama: 'drama',
  romance: 'drama',
  comedy: 'comedy',
  action: 'action',
  adventure: 'action',
  thriller: 'thriller',
  crime: 'thriller',
  mystery: 'thriller',
  horror: 'thriller',
};

/**
 * The genre family of a free-text genre name, or undefined when it is not tracked.
 *
 * @example
 * genreFamily('Crime') // 'thriller'
 */
export function genreFamily(genre: string): GenreFamily | undefined {
  return GENRE_ALIASES[genre.trim().toLowerCase()];
}

export const FEATURE_SCHEMA_V1: readonly FeatureSpec[] = [
  { name: 'sessions_per_week', transform: 'log1p', description: 'viewing sessions per week' },
  { name: 'hours_per_week', transform: 'log1p', description: 'hours watched per week' },
  { name: 'titles_per_week', transform: 'log1p', description: 'different titles started per week' },
  { name: 'completion_rate', transform: 'ratio', description: 'share of started titles finished' },
  { name: 'skip_rate', transform: 'ratio', description: 'share of started titles skipped' },
  { name: 'days_since_last', transform: 'log1p', description: 'days since last viewing' },
  { name: 'tenure_days', transform: 'log1p', description: 'days since first viewing' },
  { name: 'evening_share', transform: 'share', description: 'share of viewing in the evening (18:00–24:00)' },
  { name: 'weekend_share', transform: 'share', description: 'share of viewing at weekends' },
  { name: 'device_tv_share', transform: 'share', description: 'share of viewing on a TV' },
  { name: 'device_mobile_share', transform: 'share', description: 'share of viewing on a phone' },
  { name: 'genre_drama_share', transform: 'share', description: 'drama and romance' },
  { name: 'genre_comedy_share', transform: 'share', description: 'comedy' },
  { name: 'genre_action_share', transform: 'share', description: 'action and adventure' },
  { name: 'genre_thriller_share', transform: 'share', description: 'thriller, crime, mystery and horror' },
];

/** Feature names in vector order. */
export const FEATURE_NAMES_V1: readonly string[] = FEATURE_SCHEMA_V1.map((f) => f.name);

/** Number of dimensions of a v1 feature vector. */
export const FEATURE_DIM_V1 = FEATURE_SCHEMA_V1.length;
