import { describe, expect, it } from 'vitest';
import { randomFraction, seededRandom } from '../random.ts';
import { inertiaOf, kmeans, kmeansPlusPlus, lloyd } from './lloyd.ts';
import { adjustedRandIndex, silhouette } from './quality.ts';

/** Three tight, far-apart blobs in 2-D with their true labels. */
function blobs(perBlob: number): { data: Float64Array; truth: Int32Array } {
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  const random = seededRandom(3);
  const w = new Uint32Array(2);
  const data = new Float64Array(perBlob * 3 * 2);
  const truth = new Int32Array(perBlob * 3);
  for (let i = 0; i < perBlob * 3; i++) {
    const c = i % 3;
    random(w);
    data[2 * i] = (centres[c]?.[0] as number) + ((w[0] as number) / 2 ** 32 - 0.5);
    data[2 * i + 1] = (centres[c]?.[1] as number) + ((w[1] as number) / 2 ** 32 - 0.5);
    truth[i] = c;
  }
  return { data, truth };
}

describe('kmeans', () => {
  it('finds well-separated blobs exactly (ARI 1) and reports their inertia', () => {
    const { data, truth } = blobs(100);
    const r = kmeans(data, 2, 3, { restarts: 3, seed: 5 });
    expect(r.converged).toBe(true);
    expect(adjustedRandIndex(r.labels, truth)).toBe(1);
    // Uniform noise in a unit square has variance 1/12 per axis: inertia ≈ n · 2/12.
    expect(r.inertia / 300).toBeGreaterThan(0.12);
    expect(r.inertia / 300).toBeLessThan(0.21);
    expect(inertiaOf(data, 2, r.centroids).inertia).toBeCloseTo(r.inertia, 9);
  });

  it('Lloyd never increases inertia and stops at a fixed point', () => {
    const { data } = blobs(50);
    const init = kmeansPlusPlus(data, 2, 3, seededRandom(9));
    const before = inertiaOf(data, 2, init).inertia;
    const r = lloyd(data, 2, init);
    expect(r.inertia).toBeLessThanOrEqual(before);
    const again = lloyd(data, 2, r.centroids);
    expect(again.iterations).toBe(1);
    expect(again.inertia).toBeCloseTo(r.inertia, 9);
  });

  it('seeds exactly as plain greedy k-means++ does (the capped distance only skips work)', () => {
    // Plain greedy k-means++, written out: full squared distances, min with the nearest so far.
    const plain = (data: Float64Array, d: number, k: number, random: ReturnType<typeof seededRandom>): Float64Array => {
      const n = data.length / d;
      const fraction = () => randomFraction(random);
      const dist = (i: number, c: Float64Array, at: number) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += ((data[i * d + j] as number) - (c[at * d + j] as number)) ** 2;
        return s;
      };
      const out = new Float64Array(k * d);
      const first = Math.min(n - 1, Math.floor(fraction() * n));
      out.set(data.subarray(first * d, first * d + d), 0);
      let closest = Array.from({ length: n }, (_, i) => dist(i, out, 0));
      for (let c = 1; c < k; c++) {
        let best: { row: number; p: number; next: number[] } | null = null;
        for (let t = 0; t < 2 + Math.floor(Math.log(k)); t++) {
          let target = fraction() * closest.reduce((a, b) => a + b, 0);
          let row = n - 1;
          for (let i = 0; i < n; i++) if ((target -= closest[i] as number) < 0) { row = i; break; }
          out.set(data.subarray(row * d, row * d + d), c * d);
          const next = closest.map((v, i) => Math.min(v, dist(i, out, c)));
          const p = next.reduce((a, b) => a + b, 0);
          if (!best || p < best.p) best = { row, p, next };
        }
        out.set(data.subarray((best as { row: number }).row * d, (best as { row: number }).row * d + d), c * d);
        closest = (best as { next: number[] }).next;
      }
      return out;
    };
    const random = seededRandom(4);
    const w = new Uint32Array(1);
    const d = 17; // not a multiple of 8: the cap is checked every 8 coordinates and at the end
    const data = Float64Array.from({ length: 900 * d }, (_, i) => {
      random(w);
      return ((w[0] as number) / 2 ** 32) * 3 + ((i / d) % 4);
    });
    for (const seed of [1, 2, 3]) expect(Array.from(kmeansPlusPlus(data, d, 9, seededRandom(seed)))).toEqual(Array.from(plain(data, d, 9, seededRandom(seed))));
  });

  it('gives exactly the labels of plain Lloyd (Hamerly bounds only skip work)', () => {
    const random = seededRandom(21);
    const w = new Uint32Array(1);
    const n = 600;
    const d = 5;
    const data = new Float64Array(n * d);
    for (let i = 0; i < data.length; i++) {
      random(w);
      data[i] = ((w[0] as number) / 2 ** 32) * 4 + (i % 3);
    }
    const init = kmeansPlusPlus(data, d, 6, seededRandom(2));
    // Plain Lloyd, written out: assign, average, repeat until no label changes.
    const c = Float64Array.from(init);
    let labels = inertiaOf(data, d, c).labels;
    for (let it = 0; it < 300; it++) {
      const sums = new Float64Array(6 * d);
      const counts = new Float64Array(6);
      for (let i = 0; i < n; i++) {
        const l = labels[i] as number;
        counts[l] = (counts[l] as number) + 1;
        for (let j = 0; j < d; j++) sums[l * d + j] = (sums[l * d + j] as number) + (data[i * d + j] as number);
      }
      for (let l = 0; l < 6; l++) if ((counts[l] as number) > 0) for (let j = 0; j < d; j++) c[l * d + j] = (sums[l * d + j] as number) / (counts[l] as number);
      const next = inertiaOf(data, d, c).labels;
      const same = next.every((v, i) => v === labels[i]);
      labels = next;
      if (same) break;
    }
    const fast = lloyd(data, d, init);
    expect([...fast.labels]).toEqual([...labels]);
    expect(fast.inertia).toBeCloseTo(inertiaOf(data, d, c).inertia, 6);
  });

  it('matches the textbook answer on a tiny 1-D case', () => {
    const data = Float64Array.of(1, 2, 3, 10, 11, 12);
    const r = kmeans(data, 1, 2, { restarts: 4, seed: 1 });
    const centres = [...r.centroids].sort((a, b) => a - b);
    expect(centres).toEqual([2, 11]);
    expect(r.inertia).toBe(4);
  });

  it('refuses a shape mismatch and k larger than n', () => {
    expect(() => kmeans(new Float64Array(5), 2, 1)).toThrow(RangeError);
    expect(() => kmeans(new Float64Array(4), 2, 3)).toThrow(RangeError);
  });
});

describe('silhouette', () => {
  it('is exact on a small input (hand-computed)', () => {
    // 1-D: cluster 0 = {0, 1}, cluster 1 = {4}. Row 0: a = 1, b = 4 → 0.75; row 1: a = 1, b = 3 → 2/3; row 2: singleton → 0.
    const s = silhouette(Float64Array.of(0, 1, 4), 1, Int32Array.of(0, 0, 1), 2);
    expect(s).toBeCloseTo((0.75 + 2 / 3 + 0) / 3, 12);
  });

  it('is near 1 for far blobs, and the sampled estimate is close to the exact value', () => {
    const { data, truth } = blobs(400);
    const exact = silhouette(data, 2, truth, 3, { sampleSize: 1200 });
    const sampled = silhouette(data, 2, truth, 3, { sampleSize: 300, seed: 4 });
    expect(exact).toBeGreaterThan(0.9);
    expect(Math.abs(sampled - exact)).toBeLessThan(0.01);
  });
});

describe('adjustedRandIndex', () => {
  it('is 1 for a relabelled partition and matches a hand-computed value', () => {
    expect(adjustedRandIndex(Int32Array.of(0, 0, 1, 1, 2, 2), Int32Array.of(2, 2, 0, 0, 1, 1))).toBe(1);
    // Classic example: a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: index 2, Σa 6, Σb 3, n₂ 15 → (2 − 1.2) / (4.5 − 1.2).
    expect(adjustedRandIndex(Int32Array.of(0, 0, 0, 1, 1, 1), Int32Array.of(0, 0, 1, 1, 2, 2))).toBeCloseTo(0.8 / 3.3, 12);
  });

  it('is about 0 for independent labelings', () => {
    const random = seededRandom(11);
    const w = new Uint32Array(2);
    const a = new Int32Array(20000);
    const b = new Int32Array(20000);
    for (let i = 0; i < a.length; i++) {
      random(w);
      a[i] = (w[0] as number) % 4;
      b[i] = (w[1] as number) % 5;
    }
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(0.01);
  });
});
