/**
 * The simulator's non-private baseline: best of `restarts` k-means++ seedings, for one or
 * more seeds at once (the baseline and the stability runs), the restarts spread over
 * worker threads (one per core) when the matrix is large enough to pay for them.
 */
import { availableParallelism } from 'node:os';
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

async function inWorkers(matrix: Float32Array, d: number, k: number, jobs: readonly RestartJob[], maxIterations: number, threads: number): Promise<KmeansResult[]> {
  const { Worker } = await import('node:worker_threads');
  const shared = new Float32Array(new SharedArrayBuffer(matrix.byteLength));
  shared.set(matrix);
  const fits: KmeansResult[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(new URL('./restart-worker.ts', import.meta.url), { workerData: { matrix: shared.buffer, d, k, maxIterations } });
      return new Promise<void>((resolve, reject) => {
        // Each worker takes the next job when it finishes one: restarts differ a lot in length.
        const feed = (): void => {
          const job = next < jobs.length ? jobs[next++] : undefined;
          worker.postMessage(job ?? null);
        };
        worker.on('message', (m: { job: RestartJob; fit: KmeansResult }) => {
          fits[jobs.findIndex((j) => j.seed === m.job.seed && j.restart === m.job.restart)] = m.fit;
          feed();
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`k-means worker exited with ${code}`))));
        feed();
      });
    }),
  );
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
  const fits = threads > 1 ? await inWorkers(matrix, d, k, jobs, maxIterations, threads) : inline(matrix, d, k, jobs, maxIterations);
  return bestPerSeed(jobs, fits, seeds);
}
