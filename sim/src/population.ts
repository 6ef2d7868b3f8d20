/**
 * The simulated population: one raw and one standardised feature row per device, each
 * computed by replaying the device's events through the SDK's feature code.
 */
import { availableParallelism } from 'node:os';
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

/** Lifecycle stages as small integers in shared memory (−1 = none). */
const STAGES: readonly LifecycleStage[] = ['new', 'active', 'at_risk', 'lapsed'];

/** What the feature rows of devices [from, to) depend on, besides the options. */
export interface RowsContext {
  users: number;
  now: number;
}

/**
 * Fills rows [from, to) of `raw` (n × d) and `stages` (stage index, −1 for none) by
 * replaying each device through the SDK's feature code; returns the context (source
 * users, clock). Runs on the main thread or in a worker (population-worker.ts).
 *
 * @example
 * computeRows(opts, 0, opts.clients, raw, stages);
 */
export function computeRows(opts: PopulationOptions, from: number, to: number, raw: Float32Array, stages: Int8Array): RowsContext {
  const d = FEATURE_DIM_V1;
  const put = (i: number, f: { raw: Float32Array; stage: LifecycleStage | null }): void => {
    raw.set(f.raw, i * d);
    stages[i] = f.stage === null ? -1 : STAGES.indexOf(f.stage);
    if (opts.progress && i % 5000 === 4999) opts.progress(i + 1, opts.clients);
  };
  if (opts.dataset === 'movielens') {
    const data = loadMovieLens(opts.dataDir ?? '');
    const users = data.users.length;
    const latest = data.users.reduce((m, u) => Math.max(m, (u.ratings[u.ratings.length - 1] as { at: number }).at), 0);
    const now = Math.ceil(latest / DAY_MS) * DAY_MS + DAY_MS;
    for (let i = from; i < to; i++) {
      const random = seededRandom(deviceSeed(opts.seed, i));
      const resampled = i >= users;
      const user = data.users[resampled ? randomBelow(users, random) : i] as (typeof data.users)[number];
      const profile = drawProfile(random);
      put(i, deviceFeatures((fold) => replayUser(user, data.movies, now, resampled, profile, random, fold), profile.tzOffsetMin, now));
    }
    return { users, now };
  }
  const now = SYNTHETIC_NOW;
  for (let i = from; i < to; i++) {
    const random = seededRandom(deviceSeed(opts.seed, i));
    put(i, deviceFeatures((fold) => syntheticDevice(i % opts.k, now, random, fold), 0, now));
  }
  return { users: opts.k, now };
}

/** The synthetic population's clock. */
const SYNTHETIC_NOW = Date.UTC(2026, 10, 23);
/** From this many devices on, the rows are computed in worker threads (one per core, at most 4). */
const THREADS_FROM = 20_000;

async function rowsInWorkers(opts: PopulationOptions, raw: Float32Array, stages: Int8Array, threads: number): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const n = opts.clients;
  const per = Math.ceil(n / threads);
  let done = 0;
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = t * per;
      const to = Math.min(n, from + per);
      const { progress, ...plain } = opts;
      const worker = new Worker(new URL('./population-worker.ts', import.meta.url), { workerData: { opts: plain, from, to, raw: raw.buffer, stages: stages.buffer } });
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { done: number }) => {
          done += m.done;
          progress?.(done, n);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`feature worker exited with ${code}`))));
      });
    }),
  );
}

/**
 * Builds the population: MovieLens users replayed (one device per user first, then
 * resampled users with jitter) or synthetic archetype devices. From 20,000 devices on,
 * the rows are computed by worker threads in parallel (same code, same seeds, same rows).
 *
 * @example
 * const pop = await buildPopulation({ dataset: 'synthetic', clients: 2000, k: 4, seed: 1 });
 */
export async function buildPopulation(opts: PopulationOptions): Promise<Population> {
  const d = FEATURE_DIM_V1;
  const n = opts.clients;
  const raw = new Float32Array(new SharedArrayBuffer(n * d * 4));
  const stageIndex = new Int8Array(new SharedArrayBuffer(n));
  // The main thread always checks the data (a bad folder fails here, with a clear error) and learns the context.
  const context = computeRows(opts, 0, 0, raw, stageIndex);
  const threads = Math.min(4, availableParallelism());
  if (n >= THREADS_FROM && threads > 1) await rowsInWorkers(opts, raw, stageIndex, threads);
  else computeRows(opts, 0, n, raw, stageIndex);
  const truth = opts.dataset === 'synthetic' ? Int32Array.from({ length: n }, (_, i) => i % opts.k) : null;
  const stages = Array.from(stageIndex, (s) => (s < 0 ? null : (STAGES[s] as LifecycleStage)));
  const plainRaw = Float32Array.from(raw);
  const scaling = scalingOf(plainRaw, d);
  const matrix = standardiseRows(Float32Array.from(plainRaw), d, scaling);
  return { dataset: opts.dataset, users: context.users, n, d, names: FEATURE_NAMES_V1, raw: plainRaw, matrix, scaling, truth, stages, now: context.now };
}
