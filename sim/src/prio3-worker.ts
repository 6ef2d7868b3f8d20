/** Worker thread of runPrio3Sample: runs its range of sampled devices and posts the sums and times. */
import { parentPort, workerData } from 'node:worker_threads';
import { runPrio3Shard, type Prio3SampleShard } from './prio3-sample.ts';

parentPort?.postMessage(await runPrio3Shard(workerData as Prio3SampleShard));
