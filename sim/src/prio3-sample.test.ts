import { describe, expect, it } from 'vitest';
import { TRAINING_ENCODING } from '@edgeseg/aggregator/rounds';
import { runPrio3Sample } from './prio3-sample.ts';

describe('runPrio3Sample', () => {
  it('verifies every sampled report and checks that the shares add up', async () => {
    const d = 4;
    const k = 3;
    const n = 60;
    const matrix = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) * 2);
    const centroids = Float64Array.from({ length: k * d }, (_, i) => Math.cos(i));
    const labels = Int32Array.from({ length: n }, (_, i) => i % k);
    const out = await runPrio3Sample({ devices: 50, matrix, d, k, centroids, labels, groups: 4, encoding: TRAINING_ENCODING, epsilon: 1, delta: 1e-9, seed: 3 });
    expect(out.devices).toBe(50);
    expect(out.kmeans.devices).toBe(1);
    expect(out.shardMs).toBeGreaterThan(0);
    expect(out.prepMs).toBeGreaterThan(0);
    expect(out.kmeans.shardMs).toBeGreaterThan(out.shardMs); // a SumVec proof is more work than a histogram's
  });

  it('splits the devices over worker threads and still checks every share sum', async () => {
    const d = 4;
    const k = 3;
    const n = 120;
    const matrix = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) * 2);
    const centroids = Float64Array.from({ length: k * d }, (_, i) => Math.cos(i));
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
    // runPrio3Sample throws unless each thread's verified shares add up to its devices' segments and encodings.
    const out = await runPrio3Sample({ devices: 100, matrix, d, k, centroids, labels, groups: 1, encoding: TRAINING_ENCODING, epsilon: 1, delta: 1e-9, seed: 5 }, { threads: 2 });
    expect(out.devices).toBe(100);
    expect(out.kmeans.devices).toBe(2);
    expect(out.prepMs).toBeGreaterThan(0);
  });
});
