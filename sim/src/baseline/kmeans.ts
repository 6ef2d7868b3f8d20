/**
 * The simulator's non-private baseline: best of `restarts` k-means++ seedings, for one or
 * more seeds at once (the baseline and the stability runs), the restarts spread over
 * worker threads (one per core) when the matrix is large enough to pay for them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KmeansResult } from '@edgeseg/shared';
import { splitExact } from './centroids.ts';
import { runRestart, type RestartJob } from './restarts.ts';

export interface BaselineOptions {
  /** Seedings per fit; the lowest inertia wins (ties: the earliest restart). */
  restarts: number;
  /** One fit per seed. */
  seeds: readonly number[];
  /** Lloyd iteration cap per seeding (default 300). */
  maxIterations?: number;
  /** Worker threads (default: one per core, none below 20,000 rows). */
  threads?: number;
  /** Told the worker threads' CPU seconds when they are done (not called without threads). */
  cpu?: (seconds: number) => void;
}

/** Below this many rows, starting workers costs more than it saves. */
const THREADS_FROM = 20_000;

/** The best fit per seed from every restart's result, in job order (so the winner never depends on timing). */
function bestPerSeed(jobs: readonly RestartJob[], fits: readonly KmeansResult[], seeds: readonly number[]): KmeansResult[] {
  return seeds.map((seed) => {
    let best: KmeansResult | null = null;
    jobs.forEach((job, i) => {
      const fit = fits[i] as KmeansResult;
      if (job.seed === seed && (!best || fit.inertia < best.inertia)) best = fit;
    });
    if (!best) throw new Error(`baselineKmeans: no restart for seed ${seed}`);
    return best;
  });
}

async function inWorkers(matrix: Float32Array, d: number, k: number, jobs: readonly RestartJob[], maxIterations: number, threads: number, cpu?: (seconds: number) => void): Promise<KmeansResult[]> {
  const shared = new Float32Array(new SharedArrayBuffer(matrix.byteLength));
  shared.set(matrix);
  // Workers claim jobs from this counter themselves (restarts differ a lot in length), so
  // they keep going while the main thread is busy with something else.
  const next = new SharedArrayBuffer(4);
  const fits: KmeansResult[] = new Array(jobs.length);
  let cpuSeconds = 0;
  await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(new URL('./restart-worker.ts', import.meta.url), { workerData: { matrix: shared.buffer, d, k, maxIterations, jobs, next } });
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { index: number; fit: KmeansResult } | { cpuSeconds: number }) => {
          if ('cpuSeconds' in m) cpuSeconds += m.cpuSeconds;
          else fits[m.index] = m.fit;
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`k-means worker exited with ${code}`))));
      });
    }),
  );
  const missing = jobs.findIndex((_, i) => !fits[i]);
  if (missing >= 0) throw new Error(`baselineKmeans: no result for restart ${missing}`);
  cpu?.(cpuSeconds);
  return fits;
}

function inline(matrix: Float32Array, d: number, k: number, jobs: readonly RestartJob[], maxIterations: number): KmeansResult[] {
  const parts = splitExact(matrix, d);
  return jobs.map((job) => runRestart(matrix, d, k, job, maxIterations, parts));
}

/**
 * Best-of-`restarts` k-means for each seed; the same result whatever the thread count.
 *
 * @example
 * const [baseline, again1, again2] = await baselineKmeans(pop.matrix, 31, 8, { restarts: 10, seeds: [1, 2, 3] });
 */
export async function baselineKmeans(matrix: Float32Array, d: number, k: number, options: BaselineOptions): Promise<KmeansResult[]> {
  const { restarts, seeds, maxIterations = 300 } = options;
  const n = matrix.length / d;
  if (!Number.isInteger(n) || n < k || k < 1) throw new RangeError(`baselineKmeans: k = ${k} for ${n} rows of ${d}`);
  if (!Number.isInteger(restarts) || restarts < 1) throw new RangeError(`baselineKmeans: restarts = ${restarts}`);
  const jobs = seeds.flatMap((seed) => Array.from({ length: restarts }, (_, restart) => ({ seed, restart })));
  const threads = Math.min(jobs.length, options.threads ?? (n >= THREADS_FROM ? availableParallelism() : 1));
  const fits = threads > 1 ? await inWorkers(matrix, d, k, jobs, maxIterations, threads, options.cpu) : inline(matrix, d, k, jobs, maxIterations);
  return bestPerSeed(jobs, fits, seeds);
}
