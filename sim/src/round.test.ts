import { describe, expect, it } from 'vitest';
import { seededRandom } from '@edgeseg/shared';
import { TRAINING_ENCODING } from '../../aggregator/src/training/index.ts';
import { addLocalNoise, runRound } from './round.ts';

/** Two clusters in d = 3 around ±1 on the first axis, 400 devices. */
function twoBlobs(): { matrix: Float32Array; d: number } {
  const d = 3;
  const n = 400;
  const matrix = new Float32Array(n * d);
  const random = seededRandom(5);
  const w = new Uint32Array(d);
  for (let i = 0; i < n; i++) {
    random(w);
    matrix[i * d] = i % 2 ? 1 : -1;
    for (let j = 0; j < d; j++) matrix[i * d + j] = (matrix[i * d + j] as number) + ((w[j] as number) / 2 ** 32 - 0.5) * 0.2;
  }
  return { matrix, d };
}

function randoms(seed: number) {
  return { deviceRandom: seededRandom(seed), shareRandom: seededRandom(seed + 1), leaderNoise: seededRandom(seed + 2), helperNoise: seededRandom(seed + 3) };
}

describe('runRound', () => {
  it('secure shares sum back to the plain cluster means (noise negligible), whatever the groups', () => {
    const { matrix, d } = twoBlobs();
    const n = matrix.length / d;
    const truth = [0, 1].map((c) => [0, 1, 2].map((j) => {
      let s = 0;
      for (let i = c; i < n; i += 2) s += matrix[i * d + j] as number;
      return s / (n / 2);
    }));
    for (const groups of [1, 3]) {
      const out = runRound({ mode: 'secure', matrix, d, slices: [[[-0.5, 0, 0], [0.5, 0, 0]]], groups, encoding: TRAINING_ENCODING, sigma2: { num: 1n, den: 100n }, minCount: 1, present: new Uint8Array(n).fill(1), ...randoms(groups) });
      expect(out.contributions).toBe(n);
      expect(out.bucketCounts.reduce((a, b) => a + b, 0)).toBe(n);
      const u = out.updates[0];
      expect(u?.counts.reduce((a, b) => a + b, 0)).toBeCloseTo(n, -1);
      // Stochastic rounding at ≈ 12 units per standard unit (bound 127): each device off by
      // under 1/12, a mean over 200 devices by about 0.003 (1 SD): within 0.01.
      for (let c = 0; c < 2; c++) for (let j = 0; j < d; j++) expect(Math.abs((u?.centroids[c]?.[j] as number) - (truth[c]?.[j] as number))).toBeLessThan(0.01);
    }
  });

  it('leaves out devices that dropped out and splits devices over slices', () => {
    const { matrix, d } = twoBlobs();
    const n = matrix.length / d;
    const present = new Uint8Array(n).map((_, i) => (i < 300 ? 1 : 0));
    const start = [[-0.5, 0, 0], [0.5, 0, 0]];
    const out = runRound({ mode: 'secure', matrix, d, slices: [start, start], groups: 2, encoding: TRAINING_ENCODING, sigma2: { num: 1n, den: 100n }, minCount: 1, present, ...randoms(9) });
    expect(out.contributions).toBe(300);
    expect(out.updates).toHaveLength(2);
    expect(out.bucketCounts).toHaveLength(4);
    for (const c of out.bucketCounts) expect(c).toBeGreaterThan(40);
  });

  it('local mode: noisy sums still find the means when the noise is small', () => {
    const { matrix, d } = twoBlobs();
    const n = matrix.length / d;
    // σ = 1/8 integer unit per device ≈ 0.01 standard units at the encoding's ≈ 12 units per standard unit.
    const out = runRound({ mode: 'local', matrix, d, slices: [[[-0.5, 0, 0], [0.5, 0, 0]]], groups: 1, encoding: TRAINING_ENCODING, sigma2: { num: 1n, den: 64n }, minCount: 1, present: new Uint8Array(n).fill(1), ...randoms(4) });
    expect(Math.abs((out.updates[0]?.centroids[0]?.[0] as number) + 1)).toBeLessThan(0.02);
    expect(Math.abs((out.updates[0]?.centroids[1]?.[0] as number) - 1)).toBeLessThan(0.02);
  });
});

describe('addLocalNoise', () => {
  it('adds noise with the variance of n devices’ own draws (n·σ²) and mean 0', () => {
    const entries = 20_000;
    const sum = new Uint32Array(entries);
    addLocalNoise(sum, { num: 9n, den: 1n }, 100, seededRandom(8));
    const signed = new Int32Array(sum.buffer);
    let m = 0;
    let v = 0;
    for (const x of signed) m += x;
    m /= entries;
    for (const x of signed) v += (x - m) ** 2;
    v /= entries - 1;
    expect(Math.abs(m)).toBeLessThan(0.5); // sd of the mean ≈ 30/√20000 ≈ 0.21
    expect(v / 900).toBeGreaterThan(0.95);
    expect(v / 900).toBeLessThan(1.05);
  });
});
