/** Worker thread of buildPopulation: computes its range of feature rows into shared memory. */
import { parentPort, workerData } from 'node:worker_threads';
import { computeRows, type PopulationOptions } from './population.ts';

const { opts, from, to, raw, stages } = workerData as { opts: PopulationOptions; from: number; to: number; raw: SharedArrayBuffer; stages: SharedArrayBuffer };
let reported = from;
computeRows(
  {
    ...opts,
    progress: (done) => {
      parentPort?.postMessage({ done: done - reported });
      reported = done;
    },
  },
  from,
  to,
  new Float32Array(raw),
  new Int8Array(stages),
);
parentPort?.postMessage({ done: to - reported });
