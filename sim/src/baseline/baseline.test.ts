import { describe, expect, it } from 'vitest';
import { kmeansPlusPlus, seededRandom } from '@edgeseg/shared';
import { buildPopulation } from '../population.ts';
import { ClusterSums, splitExact } from './centroids.ts';
import { elkanLloyd } from './elkan.ts';
import { baselineKmeans } from './kmeans.ts';
import { plainLloyd } from './plain-lloyd.ts';
import { restartStart } from './restarts.ts';

/** Uniform floats in [−scale, scale), float32-rounded, from a seeded source. */
function noise(count: number, seed: number, scale: number): Float32Array {
  const words = new Uint32Array(count);
  seededRandom(seed)(words);
  return Float32Array.from(words, (w) => (w / 2 ** 31 - 1) * scale);
}

/** Rows on an integer grid, many duplicated: exact ties between centroids are common. */
function grid(n: number, d: number, seed: number): Float32Array {
  return Float32Array.from(noise(n * d, seed, 3), (x) => Math.round(x));
}

function expectSame(data: Float32Array, d: number, start: Float64Array): void {
  const fast = elkanLloyd(data, d, start);
  const plain = plainLloyd(data, d, start);
  expect(fast.iterations).toBe(plain.iterations);
  expect(fast.converged).toBe(plain.converged);
  expect(Array.from(fast.labels)).toEqual(Array.from(plain.labels));
  expect(Array.from(fast.centroids)).toEqual(Array.from(plain.centroids));
  expect(fast.inertia).toBe(plain.inertia);
}

describe('elkanLloyd', () => {
  it('gives exactly plain Lloyd’s labels, centroids, inertia and iterations on simulated devices', async () => {
    const pop = await buildPopulation({ dataset: 'synthetic', clients: 3000, k: 6, seed: 4 });
    for (const restart of [0, 1, 2]) {
      const start = restartStart(pop.matrix, pop.d, 8, { seed: 4, restart });
      expectSame(pop.matrix, pop.d, start);
    }
  });

  it('breaks exact ties the way plain Lloyd does (lowest index) on duplicated grid rows', () => {
    const d = 3;
    const data = grid(2000, d, 9);
    for (const restart of [0, 1, 2, 3]) expectSame(data, d, restartStart(data, d, 7, { seed: 9, restart }));
  });

  it('refills an emptied cluster the same way (two identical starting centroids)', () => {
    const d = 2;
    const data = noise(600 * d, 3, 1);
    const start = Float64Array.from([0.5, 0.5, 0.5, 0.5, -0.5, -0.5, 0.9, -0.9]);
    const plain = plainLloyd(data, d, start);
    // Cluster 1 is empty after the first assignment (ties go to cluster 0): the refill runs.
    expect(new Set(plain.labels).size).toBe(4);
    expectSame(data, d, start);
  });

  it('stops at maxIterations like plain Lloyd', () => {
    const d = 4;
    const data = noise(1500 * d, 11, 2);
    const start = restartStart(data, d, 6, { seed: 11, restart: 0 });
    const fast = elkanLloyd(data, d, start, 2);
    expect(fast.converged).toBe(false);
    expect(fast.iterations).toBe(2);
    expect(Array.from(fast.labels)).toEqual(Array.from(plainLloyd(data, d, start, 2).labels));
  });
});

describe('splitExact and ClusterSums', () => {
  it('splits every value into parts that add back to it exactly', () => {
    const data = Float32Array.from([...noise(300, 1, 20), 1e-30, -3e-8, 0, 2 ** -140, 123456.7]);
    const { levels } = splitExact(data, 1);
    expect(levels.length).toBeGreaterThan(1);
    for (let i = 0; i < data.length; i++) expect(levels.reduce((s, part) => s + (part[i] as number), 0)).toBe(data[i]);
  });

  it('gives the same means whether sums are built from scratch or row by row in another order', () => {
    const d = 5;
    const n = 1000;
    const data = Float32Array.from(noise(n * d, 2, 1), (x, i) => (i % 3 === 0 ? x * 1e-6 : x * 30));
    const parts = splitExact(data, d);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const scratch = new ClusterSums(parts, d, 3);
    scratch.fromLabels(labels);
    const a = new Float64Array(3 * d);
    scratch.writeMeans(data, labels, a, null);
    // Start with everything in cluster 0, then move rows out in descending order.
    const moved = new ClusterSums(parts, d, 3);
    moved.fromLabels(new Int32Array(n));
    for (let i = n - 1; i >= 0; i--) if (labels[i] !== 0) moved.move(i, 0, labels[i] as number);
    const b = new Float64Array(3 * d);
    moved.writeMeans(data, labels, b, null);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('baselineKmeans', () => {
  it('gives the same fits on worker threads as on the main thread, best restart per seed', async () => {
    const pop = await buildPopulation({ dataset: 'synthetic', clients: 2500, k: 5, seed: 2 });
    const options = { restarts: 3, seeds: [2, 3] };
    const inline = await baselineKmeans(pop.matrix, pop.d, 5, { ...options, threads: 1 });
    const threaded = await baselineKmeans(pop.matrix, pop.d, 5, { ...options, threads: 2 });
    expect(inline).toHaveLength(2);
    for (const [i, fit] of inline.entries()) {
      expect(Array.from(threaded[i]?.labels ?? [])).toEqual(Array.from(fit.labels));
      expect(threaded[i]?.inertia).toBe(fit.inertia);
      // The best of the seed's restarts, each restart run alone.
      const each = [0, 1, 2].map((restart) => elkanLloyd(pop.matrix, pop.d, restartStart(pop.matrix, pop.d, 5, { seed: options.seeds[i] as number, restart })).inertia);
      expect(fit.inertia).toBe(Math.min(...each));
    }
  });
});
