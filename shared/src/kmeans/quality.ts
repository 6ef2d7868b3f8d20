/**
 * How good a clustering is: the silhouette coefficient and the adjusted Rand index
 * between two labelings.
 */
import { randomBelow, seededRandom } from '../random.ts';
import type { Matrix } from './lloyd.ts';

/**
 * Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distances: per row
 * s = (b − a) / max(a, b), a = mean distance to the other rows of its cluster, b = the
 * lowest mean distance to another cluster's rows; a row alone in its cluster scores 0.
 * Exact (O(n²·d)) when n ≤ `sampleSize`; above it, the exact silhouette of a seeded
 * uniform sample of `sampleSize` rows without replacement (distances within the sample
 * only), an unbiased-in-expectation estimate whose error shrinks as 1/√sampleSize.
 *
 * @example
 * silhouette(matrix, 31, labels, 8) // in [−1, 1]
 */
export function silhouette(data: Matrix, d: number, labels: Int32Array, k: number, options: { sampleSize?: number; seed?: number } = {}): number {
  const { sampleSize = 2000, seed = 1 } = options;
  const n = labels.length;
  let rows: Int32Array;
  if (n <= sampleSize) rows = Int32Array.from({ length: n }, (_, i) => i);
  else {
    // Partial Fisher–Yates: the first sampleSize entries are a uniform sample.
    const all = Int32Array.from({ length: n }, (_, i) => i);
    const random = seededRandom(seed);
    for (let i = 0; i < sampleSize; i++) {
      const j = i + randomBelow(n - i, random);
      const t = all[i] as number;
      all[i] = all[j] as number;
      all[j] = t;
    }
    rows = all.subarray(0, sampleSize);
  }
  const m = rows.length;
  const size = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const c = labels[rows[i] as number] as number;
    size[c] = (size[c] as number) + 1;
  }
  const toCluster = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const ri = rows[i] as number;
    const own = labels[ri] as number;
    toCluster.fill(0);
    for (let t = 0; t < m; t++) {
      if (t === i) continue;
      const rt = rows[t] as number;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = (data[ri * d + j] as number) - (data[rt * d + j] as number);
        s += diff * diff;
      }
      const c = labels[rt] as number;
      toCluster[c] = (toCluster[c] as number) + Math.sqrt(s);
    }
    if ((size[own] as number) <= 1) continue; // a singleton scores 0
    const a = (toCluster[own] as number) / ((size[own] as number) - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && (size[c] as number) > 0) b = Math.min(b, (toCluster[c] as number) / (size[c] as number));
    if (b === Infinity) continue;
    const denom = Math.max(a, b);
    total += denom > 0 ? (b - a) / denom : 0;
  }
  return m > 0 ? total / m : 0;
}

function choose2(x: number): number {
  return (x * (x - 1)) / 2;
}

/**
 * Adjusted Rand index (Hubert & Arabie 1985) between two labelings of the same rows:
 * 1 for identical partitions (whatever the label names), ≈ 0 for independent ones.
 *
 * @example
 * adjustedRandIndex(Int32Array.of(0, 0, 1, 1), Int32Array.of(1, 1, 0, 0)) // 1
 */
export function adjustedRandIndex(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`adjustedRandIndex: ${n} and ${b.length} labels`);
  const ka = a.reduce((m, x) => Math.max(m, x), -1) + 1;
  const kb = b.reduce((m, x) => Math.max(m, x), -1) + 1;
  const table = new Float64Array(ka * kb);
  const rowSums = new Float64Array(ka);
  const colSums = new Float64Array(kb);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    table[x * kb + y] = (table[x * kb + y] as number) + 1;
    rowSums[x] = (rowSums[x] as number) + 1;
    colSums[y] = (colSums[y] as number) + 1;
  }
  let index = 0;
  for (const v of table) index += choose2(v);
  let sumA = 0;
  for (const v of rowSums) sumA += choose2(v);
  let sumB = 0;
  for (const v of colSums) sumB += choose2(v);
  const expected = (sumA * sumB) / choose2(n);
  const max = (sumA + sumB) / 2;
  if (max === expected) return 1; // both labelings put everything in one cluster (or n < 2)
  return (index - expected) / (max - expected);
}
