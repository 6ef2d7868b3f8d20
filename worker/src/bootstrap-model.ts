/**
 * The model a fresh deployment starts with, before any federated round has run: four
 * hand-placed centroids in standardised feature space, with scaling from typical
 * streaming viewing. Good enough to give a new app sensible segments on day one; the
 * first trained model replaces it.
 */
import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, type FeatureName, type ModelManifest } from '@edgeseg/shared';

const LABELS = [
  'Evening drama bingers, mostly on TV',
  'Comedy snackers on mobile',
  'Weekend action and thriller fans',
  'Occasional light viewers',
];

/**
 * Per feature: the typical raw value (mean), its typical spread (scale), then each
 * centroid in LABELS order in standard deviations from the mean. Keyed by name so that
 * a row cannot slide into the wrong column; tenure is 0 everywhere on purpose, since
 * how long someone has been a viewer says nothing about their taste.
 */
type Row = readonly [mean: number, scale: number, drama: number, comedy: number, weekend: number, light: number];
const TABLE: Record<FeatureName, Row> = {
  // [mean, scale, then the centroids: drama bingers, comedy snackers, weekend action/thriller, light viewers]
  sessions_per_week:          [1.2, 0.6, 0.5, 0.3, -0.2, -1.0], // log1p(≈2.3 a week)
  hours_per_week:             [1.8, 0.8, 1.2, -0.6, 0.2, -1.0], // log1p(≈5 h)
  titles_per_week:            [1.4, 0.7, 0.3, 0.4, -0.1, -0.9],
  minutes_per_session:        [4.0, 0.7, 1.0, -1.2, 0.5, -0.3], // log1p(≈55 min)
  days_since_last:            [1.2, 0.8, -0.6, 0, 0.2, 1.2],
  tenure_days:                [3.5, 1.5, 0, 0, 0, 0],
  active_days_share:          [0.35, 0.25, 0.6, 0.3, -0.3, -1.0],
  completion_rate:            [0.55, 0.25, 0.8, -0.4, 0.3, -0.3],
  skip_rate:                  [0.15, 0.15, -0.5, 0.8, -0.2, 0.2],
  abandon_rate:               [0.2, 0.15, -0.5, 0.8, -0.1, 0.3],
  mean_watch_fraction:        [0.65, 0.25, 0.8, -0.8, 0.3, -0.3],
  binge_ratio:                [0.15, 0.2, 1.5, -0.4, -0.2, -0.5],
  series_share:               [0.5, 0.3, 1.0, 0.3, -0.6, 0],
  morning_share:              [0.1, 0.1, -0.5, 0.6, -0.2, 0],
  daytime_share:              [0.2, 0.15, -0.6, 0.6, 0.2, 0],
  evening_share:              [0.5, 0.25, 1.2, -0.4, 0.2, 0],
  late_night_share:           [0.2, 0.15, -0.2, 0.3, 0.3, 0],
  weekend_share:              [0.33, 0.2, 0.2, -0.1, 1.4, 0], // 2 days of 7 ≈ 0.29
  device_tv_share:            [0.4, 0.35, 1.2, -0.8, 0.4, 0],
  device_mobile_share:        [0.3, 0.3, -0.7, 1.4, -0.3, 0],
  device_desktop_share:       [0.2, 0.25, -0.5, -0.2, 0, 0],
  device_tablet_share:        [0.1, 0.15, -0.3, 0.2, -0.2, 0],
  genre_drama_share:          [0.25, 0.15, 1.4, -0.5, -0.6, 0],
  genre_comedy_share:         [0.2, 0.12, -0.3, 1.5, -0.5, 0],
  genre_action_share:         [0.15, 0.12, -0.5, 0, 1.3, 0],
  genre_thriller_share:       [0.12, 0.1, -0.2, -0.4, 1.1, 0],
  genre_horror_share:         [0.05, 0.07, -0.3, -0.2, 0.4, 0],
  genre_scifi_fantasy_share:  [0.07, 0.08, -0.3, -0.2, 0.5, 0],
  genre_romance_share:        [0.06, 0.07, 0.5, 0, -0.4, 0],
  genre_documentary_share:    [0.04, 0.06, -0.2, -0.2, -0.3, 0],
  genre_family_share:         [0.06, 0.08, -0.2, 0.2, -0.4, 0],
};

/** Column `i` of TABLE in schema order: the manifest's arrays follow FEATURE_NAMES_V1, not this file. */
function column(i: number): number[] {
  const rows: Readonly<Record<string, Row>> = TABLE;
  return FEATURE_NAMES_V1.map((name) => {
    const row = rows[name];
    if (!row) throw new Error(`bootstrap model: no row for feature ${name}`);
    return row[i] as number;
  });
}

const MEAN = column(0);
const SCALE = column(1);
const CENTROIDS = LABELS.map((_, k) => column(2 + k));

/**
 * The model's GRR ε from a deployment's `GRR_EPSILON` var ("report,lifecycle,impression",
 * each in [0.01, 20]), or null when unset or malformed (the defaults apply). Devices still
 * spend at most their budget however high it is set (a week that does not fit is not sent).
 *
 * @example
 * grrEpsilonOf('2,1,1') // { report: 2, lifecycle: 1, impression: 1 }
 */
export function grrEpsilonOf(value: string | undefined): ModelManifest['epsilon'] | null {
  const parts = (value ?? '').split(',').map(Number);
  if (parts.length !== 3 || !parts.every((x) => x >= 0.01 && x <= 20)) return null;
  const [report, lifecycle, impression] = parts as [number, number, number];
  return { report, lifecycle, impression };
}

/**
 * The version-1 manifest, issued at `nowS` (epoch seconds), with the default GRR ε unless
 * `epsilon` is given.
 *
 * @example
 * const manifest = bootstrapManifest(Math.floor(Date.now() / 1000));
 */
export function bootstrapManifest(nowS: number, epsilon?: ModelManifest['epsilon'] | null): ModelManifest {
  return {
    version: 1,
    schema: FEATURE_SCHEMA_ID,
    features: [...FEATURE_NAMES_V1],
    k: CENTROIDS.length,
    centroids: CENTROIDS,
    scaling: { mean: MEAN, scale: SCALE },
    labels: LABELS,
    lifecycle: { new_days: 14, at_risk_days: 10, lapsed_days: 30 },
    // GRR ε, used by single-operator deployments only (two aggregators count segments,
    // lifecycle stages and impressions in secure rounds at COUNTS_EPSILON). Memoised GRR
    // charges a device only for a new answer; the worst case, a device whose values all
    // change every week, draws each weekly, and 5 weeks fall in any 30 days:
    // 5 × (0.2 + 0.05 + 0.05) = 1.5 ε, within the 2 ε cap.
    epsilon: epsilon ?? { report: 0.2, impression: 0.05, lifecycle: 0.05 },
    report_period: 'week',
    issued_at: nowS,
    not_before: nowS - 60,
  };
}
