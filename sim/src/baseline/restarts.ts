/**
 * One k-means++ seeding followed by Lloyd (Elkan's bounds): the unit of work of the
 * non-private baseline, the same on the main thread and in a worker. Each restart has
 * its own seed, so a restart's result does not depend on which thread ran it or in
 * which order.
 */
import { kmeansPlusPlus, seededRandom, type KmeansResult } from '@edgeseg/shared';
import { deviceSeed } from '../population.ts';
import { splitExact } from './centroids.ts';
import { elkanLloyd } from './elkan.ts';

/** One seeding of one baseline fit: fit `seed`, restart number `restart`. */
export interface RestartJob {
  seed: number;
  restart: number;
}

/**
 * The k-means++ start of one restart (its own deterministic random source; the offset
 * keeps it apart from the per-device streams deviceSeed(seed, i ≥ 0) and training's
 * streams at −1…−5).
 *
 * @example
 * const start = restartStart(matrix, 31, 8, { seed: 1, restart: 0 });
 */
export function restartStart(data: Float32Array, d: number, k: number, job: RestartJob): Float64Array {
  return kmeansPlusPlus(data, d, k, seededRandom(deviceSeed(job.seed, -100 - job.restart)));
}

/**
 * Runs one restart: k-means++ then Lloyd to convergence (or `maxIterations`). `parts`
 * (splitExact of the matrix) can be made once for many restarts.
 *
 * @example
 * const fit = runRestart(matrix, 31, 8, { seed: 1, restart: 3 }, 300);
 */
export function runRestart(data: Float32Array, d: number, k: number, job: RestartJob, maxIterations: number, parts = splitExact(data, d)): KmeansResult {
  return elkanLloyd(data, d, restartStart(data, d, k, job), maxIterations, parts);
}
