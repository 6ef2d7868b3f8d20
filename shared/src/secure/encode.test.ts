import { describe, expect, it } from 'vitest';
import { assignSegment } from '../assign.ts';
import { seededRandom, standardNormal } from '../random.ts';
import type { ContributionEncoding } from '../rounds.ts';
import {
  MAX_ENCODING_BOUND,
  decodeCountAggregate,
  decodeKmeansAggregate,
  encodeCountContribution,
  encodeKmeansContribution,
  encodingScales,
  maxDevicesPerGroup,
  validateEncoding,
  vectorLength,
} from './encode.ts';

const enc: ContributionEncoding = { clip: 4, bound: 65536, weights: { coords: 0.9, count: 0.3, sqdist: 0.2, silhouette: 0.2 } };
/** Σ w² = 1 exactly: no slack at all beyond the rounding reserve. */
const tight = (bound: number, clip = 2): ContributionEncoding => ({ clip, bound, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } });

const norm2 = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x * x, 0);

describe('validateEncoding', () => {
  it('accepts a valid encoding, Σw² = 1 included', () => {
    expect(validateEncoding(enc)).toEqual({ ok: true, value: enc });
    expect(validateEncoding(tight(1024)).ok).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a non-object', 3],
    ['Σw² > 1', { ...enc, weights: { coords: 0.9, count: 0.4, sqdist: 0.2, silhouette: 0.2 } }],
    ['Σw² barely > 1', { ...enc, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5000001 } }],
    ['a zero weight', { ...enc, weights: { ...enc.weights, silhouette: 0 } }],
    ['a negative weight', { ...enc, weights: { ...enc.weights, sqdist: -0.1 } }],
    ['a missing weight', { ...enc, weights: { coords: 0.9, count: 0.3, sqdist: 0.2 } }],
    ['an extra weight', { ...enc, weights: { ...enc.weights, other: 0.01 } }],
    ['a string weight', { ...enc, weights: { ...enc.weights, count: '0.3' } }],
    ['bound 0', { ...enc, bound: 0 }],
    ['bound above 2^20', { ...enc, bound: MAX_ENCODING_BOUND + 1 }],
    ['a fractional bound', { ...enc, bound: 100.5 }],
    ['clip 0', { ...enc, clip: 0 }],
    ['an infinite clip', { ...enc, clip: Infinity }],
    ['an extra field', { ...enc, sigma: 1 }],
  ])('refuses %s', (_, v) => {
    expect(validateEncoding(v).ok).toBe(false);
  });
});

describe('encodingScales / vectorLength / maxDevicesPerGroup', () => {
  it('derives the scales from the weights with a small rounding reserve', () => {
    const s = encodingScales(enc, 24);
    const W = Math.sqrt(0.81 + 0.04 + 0.04);
    expect(s.rho).toBeCloseTo(1 - Math.sqrt(26) / (65536 * W), 12);
    expect(s.rho).toBeGreaterThan(0.9999);
    expect(s.coords).toBeCloseTo((s.rho * 0.9 * 65536) / 4, 9);
    expect(s.count).toBe(19660);
    expect(s.sqdist).toBeCloseTo((s.rho * 0.2 * 65536) / 64, 9);
    expect(s.silhouette).toBeCloseTo(s.rho * 0.2 * 65536, 9);
  });

  it('refuses a bound too small for the count or for d', () => {
    expect(() => encodingScales({ ...enc, bound: 3 }, 24)).toThrow(RangeError); // 0.3·3 < 1
    expect(() => encodingScales(tight(10), 24)).toThrow(RangeError); // 10·0.866 < 2·√26
    expect(() => encodingScales(tight(16), 24)).not.toThrow();
  });

  it('counts entries and devices', () => {
    expect(vectorLength('kmeans', 8, 24)).toBe(216);
    expect(vectorLength('counts', 8, 24)).toBe(9);
    for (const bound of [1, 3, 1000, 65536, MAX_ENCODING_BOUND]) {
      const n = maxDevicesPerGroup({ bound });
      expect(n * bound).toBeLessThanOrEqual(2 ** 31 - 1);
      expect((n + 1) * bound).toBeGreaterThan(2 ** 31 - 1);
    }
  });
});

describe('encodeKmeansContribution', () => {
  const k = 3;
  const d = 4;
  const centroids = Float32Array.from([0, 0, 0, 0, 1, 1, 0, 0, -1, 0, 2, 0]);

  it('fills only the nearest centroid block, in the documented layout', () => {
    const x = Float32Array.from([0.9, 1.2, 0.1, -0.2]);
    const { vector, segment } = encodeKmeansContribution(x, centroids, enc, seededRandom(1));
    expect(segment).toBe(assignSegment(x, centroids));
    expect(segment).toBe(1);
    expect(vector.length).toBe(k * (d + 3));
    const s = encodingScales(enc, d);
    const block = Array.from(vector.subarray(7, 14));
    expect(Array.from(vector.subarray(0, 7)).every((v) => v === 0)).toBe(true);
    expect(Array.from(vector.subarray(14)).every((v) => v === 0)).toBe(true);
    // Coordinates: stochastic rounding lands on floor or ceil of the real value.
    for (let j = 0; j < d; j++) expect(Math.abs((block[j] as number) - (x[j] as number) * s.coords)).toBeLessThan(1);
    expect(block[d]).toBe(s.count);
    const a2 = (0.9 - 1) ** 2 + (1.2 - 1) ** 2 + 0.1 ** 2 + 0.2 ** 2;
    expect(Math.abs((block[d + 1] as number) - Math.fround(0) - a2 * s.sqdist)).toBeLessThan(1.001);
    const a = Math.sqrt(a2);
    const b = Math.sqrt(0.9 ** 2 + 1.2 ** 2 + 0.1 ** 2 + 0.2 ** 2); // centroid 0 is second nearest
    expect(Math.abs((block[d + 2] as number) - ((b - a) / b) * s.silhouette)).toBeLessThan(1.001);
  });

  it('clips x to L2 ≤ clip and clips the squared distance to (2·clip)²', () => {
    const x = Float32Array.from([-300, 0, 400, 0]); // norm 500 → (−2.4, 0, 3.2, 0)
    const { vector, segment } = encodeKmeansContribution(x, centroids, enc, seededRandom(2));
    expect(segment).toBe(2);
    const s = encodingScales(enc, d);
    const block = vector.subarray(2 * 7, 3 * 7);
    expect(Math.abs((block[0] as number) - -2.4 * s.coords)).toBeLessThan(1.001);
    expect(Math.abs((block[2] as number) - 3.2 * s.coords)).toBeLessThan(1.001);
    const far = encodeKmeansContribution(Float32Array.from([4, 0, 0, 0]), Float32Array.from([-100, 0, 0, 0]), enc, seededRandom(3));
    expect(far.vector[d + 1]).toBe(Math.round(64 * s.sqdist) === 64 * s.sqdist ? 64 * s.sqdist : far.vector[d + 1]);
    expect(Math.abs((far.vector[d + 1] as number) - 64 * s.sqdist)).toBeLessThan(1);
  });

  it('has silhouette 0 when k = 1 or x sits on two centroids at once', () => {
    const one = encodeKmeansContribution(Float32Array.from([1, 2]), Float32Array.from([0, 0]), enc, seededRandom(4));
    expect(one.vector.length).toBe(5);
    expect(one.vector[4]).toBe(0);
    const tie = encodeKmeansContribution(Float32Array.from([0, 0]), Float32Array.from([0, 0, 0, 0]), enc, seededRandom(5));
    expect(tie.segment).toBe(0); // ties → lowest index, as assignSegment
    expect(tie.vector[4]).toBe(0);
  });

  it('never exceeds L2 ≤ bound (so |entry| ≤ bound), even with Σw² = 1, x on the clip sphere and small bounds', () => {
    const rnd = seededRandom(11);
    const g = () => standardNormal(rnd);
    for (const [bound, dd, kk] of [[16, 24, 8], [64, 24, 8], [100, 6, 3], [1000, 24, 8], [65536, 24, 8], [MAX_ENCODING_BOUND, 32, 10]] as const) {
      const e = tight(bound, 1.5);
      const cents = Float32Array.from({ length: kk * dd }, () => 3 * g());
      let maxRatio = 0;
      let maxEntry = 0;
      for (let t = 0; t < 2000; t++) {
        // Half the vectors far outside the clip ball (clipped onto the sphere), half inside.
        const scale = t % 2 ? 50 : 0.3;
        const x = Float32Array.from({ length: dd }, () => scale * g());
        const { vector } = encodeKmeansContribution(x, cents, e, rnd);
        maxRatio = Math.max(maxRatio, Math.sqrt(norm2(vector)) / bound);
        for (const v of vector) maxEntry = Math.max(maxEntry, Math.abs(v));
      }
      expect(maxRatio).toBeLessThanOrEqual(1);
      expect(maxEntry).toBeLessThanOrEqual(bound);
      expect(maxRatio).toBeGreaterThan(0.7); // the budget is actually used
    }
  });

  it('never exceeds L2 ≤ bound at the worst case: every field at its maximum before rounding', () => {
    // x on the clip sphere, own centroid ≥ 2·clip away (squared distance clipped), the
    // second nearest far away (silhouette ≈ 1): the real part has norm ≈ ρ·bound·W.
    const rnd = seededRandom(13);
    const g = () => standardNormal(rnd);
    for (const bound of [16, 17, 40, 64, 255, 1000, 4097, 65536, MAX_ENCODING_BOUND]) {
      const dd = 24;
      const e = tight(bound, 1.5);
      let maxRatio = 0;
      for (let t = 0; t < 1000; t++) {
        const u = Float64Array.from({ length: dd }, () => g());
        const n = Math.sqrt(norm2(u));
        const x = Float32Array.from(u, (v) => (100 * v) / n);
        const cents = Float32Array.from([...Array.from(u, (v) => (-10 * v) / n), ...Array.from(u, (v) => (-1e4 * v) / n)]);
        const { vector } = encodeKmeansContribution(x, cents, e, rnd);
        maxRatio = Math.max(maxRatio, Math.sqrt(norm2(vector)) / bound);
      }
      expect(maxRatio).toBeLessThanOrEqual(1);
      // What the rounding reserve costs: ρ = 1 − √(d + 2)/(bound·W).
      expect(maxRatio).toBeGreaterThan(bound >= 1000 ? 0.99 : 0.7);
    }
  });

  it('rounds without bias: the mean of many encodings is the real value', () => {
    const x = Float32Array.from([0.8, 0.7, -0.1, 0.2]);
    const small: ContributionEncoding = { clip: 4, bound: 200, weights: enc.weights }; // coarse grid: rounding matters
    const s = encodingScales(small, d);
    const rnd = seededRandom(12);
    const N = 20000;
    const mean = new Float64Array(7);
    for (let t = 0; t < N; t++) {
      const { vector } = encodeKmeansContribution(x, centroids, small, rnd);
      for (let i = 0; i < 7; i++) mean[i]! += (vector[7 + i] as number) / N;
    }
    const dist2 = (c: number) => Array.from(x).reduce((acc, v, j) => acc + (v - (centroids[c * d + j] as number)) ** 2, 0);
    const a2 = dist2(1);
    const b2 = Math.min(dist2(0), dist2(2));
    const real = [...Array.from(x, (v) => v * s.coords), s.count, a2 * s.sqdist, ((Math.sqrt(b2) - Math.sqrt(a2)) / Math.sqrt(b2)) * s.silhouette];
    expect(assignSegment(x, centroids)).toBe(1);
    // Each entry's rounding has sd ≤ 1/2, so the mean of N has sd ≤ 1/(2√N) ≈ 0.0035; allow 5 sd.
    for (let i = 0; i < 7; i++) expect(Math.abs((mean[i] as number) - (real[i] as number))).toBeLessThan(5 / (2 * Math.sqrt(N)));
  });

  it('refuses a shape mismatch or a non-finite value', () => {
    expect(() => encodeKmeansContribution(new Float32Array(4), new Float32Array(6), enc)).toThrow(RangeError);
    expect(() => encodeKmeansContribution(new Float32Array(0), new Float32Array(0), enc)).toThrow(RangeError);
    expect(() => encodeKmeansContribution(Float32Array.from([NaN, 0]), new Float32Array(2), enc)).toThrow(RangeError);
    expect(() => encodeKmeansContribution(Float32Array.from([0, 0]), Float32Array.from([Infinity, 0]), enc)).toThrow(RangeError);
  });
});

describe('decodeKmeansAggregate', () => {
  it('recovers sums of clipped values within n / scale, and counts exactly', () => {
    const k = 3;
    const d = 5;
    const rnd = seededRandom(21);
    const g = () => standardNormal(rnd);
    const cents = Float32Array.from({ length: k * d }, () => 2 * g());
    const sums = new Int32Array(k * (d + 3));
    const truth = { coord: new Float64Array(k * d), n: new Float64Array(k) };
    const n = 3000;
    for (let t = 0; t < n; t++) {
      const x = Float32Array.from({ length: d }, () => 2 * g());
      const { vector, segment } = encodeKmeansContribution(x, cents, enc, rnd);
      vector.forEach((v, i) => (sums[i]! += v));
      const nx = Math.sqrt(norm2(x));
      const f = nx > enc.clip ? enc.clip / nx : 1;
      x.forEach((v, j) => (truth.coord[segment * d + j]! += v * f));
      truth.n[segment]! += 1;
    }
    const agg = decodeKmeansAggregate(sums, k, d, enc);
    expect(Array.from(agg.counts)).toEqual(Array.from(truth.n));
    const s = encodingScales(enc, d);
    for (let i = 0; i < k * d; i++) {
      const c = Math.floor(i / d);
      expect(Math.abs((agg.coordSums[i] as number) - (truth.coord[i] as number))).toBeLessThan((truth.n[c] as number) / s.coords);
    }
    expect(() => decodeKmeansAggregate(new Int32Array(3), k, d, enc)).toThrow(RangeError);
  });

  it('takes noisy float sums too', () => {
    const s = encodingScales(enc, 1);
    const agg = decodeKmeansAggregate(Float64Array.from([s.coords * 2.5, s.count * 10.5, s.sqdist * 7, s.silhouette * 3]), 1, 1, enc);
    expect(agg.coordSums[0]).toBeCloseTo(2.5, 12);
    expect(agg.counts[0]).toBeCloseTo(10.5, 12);
    expect(agg.sqdist[0]).toBeCloseTo(7, 12);
    expect(agg.silhouette[0]).toBeCloseTo(3, 12);
  });
});

describe('encodeCountContribution / decodeCountAggregate', () => {
  it('is one-hot over k + 1 with value bound, the last entry for no segment', () => {
    expect(Array.from(encodeCountContribution(2, 4, 1))).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(encodeCountContribution(null, 4, 1))).toEqual([0, 0, 0, 0, 1]);
    expect(Array.from(encodeCountContribution(0, 2, 50))).toEqual([50, 0, 0]);
    expect(() => encodeCountContribution(4, 4, 1)).toThrow(RangeError);
    expect(() => encodeCountContribution(-1, 4, 1)).toThrow(RangeError);
    expect(() => encodeCountContribution(0, 4, 0)).toThrow(RangeError);
  });

  it('decodes sums back to devices per segment', () => {
    const sums = new Int32Array(5);
    for (const s of [0, 0, 1, 3, null, null, null]) encodeCountContribution(s, 4, 7).forEach((v, i) => (sums[i]! += v));
    expect(Array.from(decodeCountAggregate(sums, 4, 7))).toEqual([2, 1, 0, 1, 3]);
  });
});
