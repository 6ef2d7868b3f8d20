/**
 * `assignSegment` (flat Float32Arrays, shared/src/assign.ts) for k=8, d=32 against the
 * plain way to write it: arrays of number arrays and a straightforward nested loop.
 * Same seeded inputs on both sides; every result is summed into a checksum that must
 * agree between the two, so neither loop can be optimised away or silently diverge.
 */
import { assignSegment, seededRandom } from '@edgeseg/shared';
import { interleaved, median, type Benchmark } from './harness.ts';

const K = 8;
const D = 32;
/** Distinct query vectors, cycled through (a power of two, so `i & MASK` picks one). */
const N = 1024;
const MASK = N - 1;
const CALLS = 200_000;
const ROUNDS = 25;
const WARMUP = 3;
const SEED = 20261123;
const TARGET_US = 2;

/** The reference: what one would write without thinking about layout. */
function referenceAssign(x: readonly number[], centroids: readonly (readonly number[])[]): number {
  let best = 0;
  let bestDist = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const row = centroids[c] as readonly number[];
    let dist = 0;
    for (let j = 0; j < x.length; j++) {
      const diff = (x[j] as number) - (row[j] as number);
      dist += diff * diff;
    }
    if (dist < bestDist) {
      bestDist = dist;
      best = c;
    }
  }
  return best;
}

/** `count` floats in [-1, 1) from the seeded generator. */
function seededFloats(random: (out: Uint32Array) => void, count: number): Float32Array {
  const words = new Uint32Array(count);
  random(words);
  return Float32Array.from(words, (w) => w / 2 ** 31 - 1);
}

function inputs() {
  const random = seededRandom(SEED);
  const centroids = seededFloats(random, K * D);
  // Queries near a random centroid, so every segment is a plausible answer.
  const xs: Float32Array[] = [];
  for (let i = 0; i < N; i++) {
    const noise = seededFloats(random, D + 1);
    const c = Math.floor((((noise[D] as number) + 1) / 2) * K);
    xs.push(Float32Array.from({ length: D }, (_, j) => (centroids[c * D + j] as number) + 0.6 * (noise[j] as number)));
  }
  // Same float32-rounded values as plain numbers: both sides compute identical distances.
  const refCentroids = Array.from({ length: K }, (_, c) => Array.from(centroids.subarray(c * D, (c + 1) * D)));
  const refXs = xs.map((x) => Array.from(x));
  return { centroids, xs, refCentroids, refXs };
}

interface Timing {
  perCallUs: number;
  checksum: number;
}

export const bench: Benchmark = {
  name: 'assign',
  description: `assignSegment, k=${K} d=${D}, vs a nested loop over number[][]`,
  async run() {
    const { centroids, xs, refCentroids, refXs } = inputs();
    for (let i = 0; i < N; i++) {
      const a = assignSegment(xs[i] as Float32Array, centroids);
      const b = referenceAssign(refXs[i] as number[], refCentroids);
      if (a !== b) throw new Error(`assign: assignSegment says ${a}, the reference ${b} for query ${i}`);
    }
    const ours = (): Timing => {
      let checksum = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) checksum += assignSegment(xs[i & MASK] as Float32Array, centroids);
      const ns = Number(process.hrtime.bigint() - t0);
      return { perCallUs: ns / 1000 / CALLS, checksum };
    };
    const reference = (): Timing => {
      let checksum = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) checksum += referenceAssign(refXs[i & MASK] as number[], refCentroids);
      const ns = Number(process.hrtime.bigint() - t0);
      return { perCallUs: ns / 1000 / CALLS, checksum };
    };
    const runs = await interleaved(ROUNDS, WARMUP, ours, reference);
    const sumOurs = runs.ours.reduce((s, t) => s + t.checksum, 0);
    const sumRef = runs.reference.reduce((s, t) => s + t.checksum, 0);
    if (sumOurs !== sumRef || sumOurs === 0) throw new Error(`assign: checksums differ (${sumOurs} vs ${sumRef})`);
    return [
      {
        name: `assign k=${K} d=${D}, per call`,
        unit: 'µs',
        ours: median(runs.ours.map((t) => t.perCallUs)),
        reference: median(runs.reference.map((t) => t.perCallUs)),
        referenceLabel: 'nested loop over number[][] (same seeded inputs, same answers)',
        target: TARGET_US,
        note: `median of ${ROUNDS} interleaved rounds × ${CALLS.toLocaleString('en')} calls over ${N} seeded queries (${WARMUP} warm-up rounds dropped); checksum ${sumOurs}`,
      },
    ];
  },
};
