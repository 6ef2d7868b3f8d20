/**
 * The simulated population: one raw and one standardised feature row per device, each
 * computed by replaying the device's events through the SDK's feature code.
 */
import { DAY_MS, FEATURE_DIM_V1, FEATURE_NAMES_V1, randomBelow, seededRandom, type LifecycleStage } from '@edgeseg/shared';
import { loadMovieLens } from './data/movielens.ts';
import { drawProfile, replayUser } from './data/replay.ts';
import { syntheticDevice } from './data/synthetic.ts';
import { deviceFeatures, scalingOf, standardiseRows, type Scaling } from './features.ts';

export type DatasetName = 'movielens' | 'synthetic';

export interface PopulationOptions {
  dataset: DatasetName;
  /** MovieLens folder (movielens only). */
  dataDir?: string;
  clients: number;
  /** Segments of the synthetic truth (synthetic only). */
  k: number;
  seed: number;
  /** Called now and then with the devices done so far. */
  progress?: (done: number, total: number) => void;
}

export interface Population {
  dataset: DatasetName;
  /** Source users (MovieLens) or archetypes (synthetic). */
  users: number;
  n: number;
  d: number;
  names: readonly string[];
  /** n × d raw v1 features, row-major. */
  raw: Float32Array;
  /** n × d standardised features: the matrix every clustering is scored on. */
  matrix: Float32Array;
  scaling: Scaling;
  /** Ground-truth segment per device (synthetic only). */
  truth: Int32Array | null;
  stages: (LifecycleStage | null)[];
  /** The simulation's clock, epoch ms. */
  now: number;
}

/** A per-device seed mixed from the run's seed and the device index (splitmix-style). */
export function deviceSeed(seed: number, index: number): number {
  let z = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  return (z ^ (z >>> 13)) >>> 0;
}

/**
 * Builds the population: MovieLens users replayed (one device per user first, then
 * resampled users with jitter) or synthetic archetype devices.
 *
 * @example
 * const pop = buildPopulation({ dataset: 'synthetic', clients: 2000, k: 4, seed: 1 });
 */
export function buildPopulation(opts: PopulationOptions): Population {
  const d = FEATURE_DIM_V1;
  const n = opts.clients;
  const raw = new Float32Array(n * d);
  const stages: (LifecycleStage | null)[] = new Array(n);
  let truth: Int32Array | null = null;
  let users: number;
  let now: number;
  if (opts.dataset === 'movielens') {
    const data = loadMovieLens(opts.dataDir ?? '');
    users = data.users.length;
    const latest = data.users.reduce((m, u) => Math.max(m, (u.ratings[u.ratings.length - 1] as { at: number }).at), 0);
    now = Math.ceil(latest / DAY_MS) * DAY_MS + DAY_MS;
    for (let i = 0; i < n; i++) {
      const random = seededRandom(deviceSeed(opts.seed, i));
      const resampled = i >= users;
      const user = data.users[resampled ? randomBelow(users, random) : i] as (typeof data.users)[number];
      const profile = drawProfile(random);
      const f = deviceFeatures((fold) => replayUser(user, data.movies, now, resampled, profile, random, fold), profile.tzOffsetMin, now);
      raw.set(f.raw, i * d);
      stages[i] = f.stage;
      if (opts.progress && i % 5000 === 4999) opts.progress(i + 1, n);
    }
  } else {
    users = opts.k;
    now = Date.UTC(2026, 10, 23);
    truth = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const random = seededRandom(deviceSeed(opts.seed, i));
      const segment = i % opts.k;
      truth[i] = segment;
      const f = deviceFeatures((fold) => syntheticDevice(segment, now, random, fold), 0, now);
      raw.set(f.raw, i * d);
      stages[i] = f.stage;
      if (opts.progress && i % 5000 === 4999) opts.progress(i + 1, n);
    }
  }
  const scaling = scalingOf(raw, d);
  const matrix = standardiseRows(Float32Array.from(raw), d, scaling);
  return { dataset: opts.dataset, users, n, d, names: FEATURE_NAMES_V1, raw, matrix, scaling, truth, stages, now };
}
