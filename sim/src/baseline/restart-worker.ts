/** Worker thread of baselineKmeans: runs the restarts it is sent on the shared matrix. */
import { parentPort, workerData } from 'node:worker_threads';
import { splitExact } from './centroids.ts';
import { runRestart, type RestartJob } from './restarts.ts';

const { matrix, d, k, maxIterations } = workerData as { matrix: SharedArrayBuffer; d: number; k: number; maxIterations: number };
const data = new Float32Array(matrix);
const parts = splitExact(data, d);
parentPort?.on('message', (job: RestartJob | null) => {
  if (job === null) {
    parentPort?.close();
    return;
  }
  const fit = runRestart(data, d, k, job, maxIterations, parts);
  // Both arrays are made by the fit itself (plain, not shared, buffers): moved, not copied.
  parentPort?.postMessage({ job, fit }, [fit.centroids.buffer as ArrayBuffer, fit.labels.buffer as ArrayBuffer]);
});
