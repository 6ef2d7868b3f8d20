/**
 * Worker thread of baselineKmeans: claims the next restart from a shared counter until
 * none is left, so it never waits on the main thread (which trains the private model
 * meanwhile), then reports its own CPU time and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { splitExact } from './centroids.ts';
import { runRestart, type RestartJob } from './restarts.ts';

const { matrix, d, k, maxIterations, jobs, next } = workerData as { matrix: SharedArrayBuffer; d: number; k: number; maxIterations: number; jobs: RestartJob[]; next: SharedArrayBuffer };
const data = new Float32Array(matrix);
const parts = splitExact(data, d);
const counter = new Int32Array(next);
for (let index = Atomics.add(counter, 0, 1); index < jobs.length; index = Atomics.add(counter, 0, 1)) {
  const fit = runRestart(data, d, k, jobs[index] as RestartJob, maxIterations, parts);
  // Both arrays are made by the fit itself (plain, not shared, buffers): moved, not copied.
  parentPort?.postMessage({ index, fit }, [fit.centroids.buffer as ArrayBuffer, fit.labels.buffer as ArrayBuffer]);
}
const cpu = process.threadCpuUsage();
parentPort?.postMessage({ cpuSeconds: (cpu.user + cpu.system) / 1e6 });
