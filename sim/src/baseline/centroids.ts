/**
 * The two steps every Lloyd variant here shares exactly, so that the fast one and the
 * plain one give bit-for-bit the same result: the squared distance (summed in the same
 * order) and the means of the clusters (from exact sums), with the same rule for an
 * emptied cluster.
 */

/**
 * Squared Euclidean distance between row `row` of `data` and centroid `c`, summed over
 * coordinates in order (the order fixes the rounding, so every caller gets the same bits).
 *
 * @example
 * const s = squaredDistance(matrix, 31, 0, centroids, 2);
 */
export function squaredDistance(data: Float32Array, d: number, row: number, centroids: Float64Array, c: number): number {
  // Four running sums: one sum waits on each addition's latency, four overlap them
  // (about twice as fast here); the order is fixed, so every caller still gets the same bits.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const a = row * d;
  const b = c * d;
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const e0 = (data[a + j] as number) - (centroids[b + j] as number);
    const e1 = (data[a + j + 1] as number) - (centroids[b + j + 1] as number);
    const e2 = (data[a + j + 2] as number) - (centroids[b + j + 2] as number);
    const e3 = (data[a + j + 3] as number) - (centroids[b + j + 3] as number);
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; j < d; j++) {
    const e = (data[a + j] as number) - (centroids[b + j] as number);
    s0 += e * e;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Each value of a float32 matrix split into a few float64 parts, each part a multiple of
 * its level's quantum and small enough that n of them add up exactly in float64 (52 bits
 * ≥ the level's bits + log2 n). Sums of parts are then exact in any order, so a cluster's
 * sum kept up to date row by row (the fast Lloyd) has exactly the bits of one added up
 * from scratch (the plain Lloyd): both give bit-identical means.
 *
 * @example
 * const parts = splitExact(matrix, 31);
 * parts.levels.length // 2 for standardised features
 */
export function splitExact(data: Float32Array, d: number): { levels: Float64Array[] } {
  const n = data.length / d;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let top = -Infinity;
  let bottom = Infinity;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    const exp = (b >>> 23) & 0xff;
    if ((b & 0x7fffffff) === 0) continue;
    if (exp === 0xff) throw new RangeError('splitExact: the matrix holds a NaN or an infinity');
    // |v| < 2^(exp − 126); v is a multiple of 2^(exp − 150) (2^−149 when subnormal).
    top = Math.max(top, exp === 0 ? -126 : exp - 126);
    bottom = Math.min(bottom, exp === 0 ? -149 : exp - 150);
  }
  const levels: Float64Array[] = [];
  if (top === -Infinity) return { levels: [new Float64Array(data.length)] };
  const per = 52 - Math.ceil(Math.log2(n + 1));
  let rest = Float64Array.from(data);
  for (let hi = top; hi > bottom; hi -= per) {
    const quantum = 2 ** Math.max(hi - per, bottom);
    const part = new Float64Array(data.length);
    for (let i = 0; i < rest.length; i++) {
      const v = rest[i] as number;
      // Powers of two scale exactly and truncation drops whole quanta: part and remainder are exact.
      const q = Math.trunc(v / quantum) * quantum;
      part[i] = q;
      rest[i] = v - q;
    }
    levels.push(part);
  }
  rest = new Float64Array(0);
  return { levels };
}

/**
 * Per-cluster sums of a matrix's exact parts (splitExact), and the means they give. The
 * sums are exact, so they do not depend on the order rows were added or removed in.
 */
export class ClusterSums {
  readonly k: number;
  private readonly d: number;
  private readonly parts: Float64Array[];
  private readonly sums: Float64Array[];
  private readonly counts: Float64Array;

  constructor(parts: { levels: Float64Array[] }, d: number, k: number) {
    this.k = k;
    this.d = d;
    this.parts = parts.levels;
    this.sums = parts.levels.map(() => new Float64Array(k * d));
    this.counts = new Float64Array(k);
  }

  /** Sums from scratch for these labels. */
  fromLabels(labels: Int32Array): void {
    const d = this.d;
    this.counts.fill(0);
    for (let t = 0; t < this.parts.length; t++) {
      const part = this.parts[t] as Float64Array;
      const sum = (this.sums[t] as Float64Array).fill(0);
      for (let i = 0; i < labels.length; i++) {
        const a = i * d;
        const b = (labels[i] as number) * d;
        for (let j = 0; j < d; j++) sum[b + j] = (sum[b + j] as number) + (part[a + j] as number);
      }
    }
    for (let i = 0; i < labels.length; i++) this.counts[labels[i] as number] = (this.counts[labels[i] as number] as number) + 1;
  }

  /** Moves row `row` from cluster `from` to cluster `to`. */
  move(row: number, from: number, to: number): void {
    const d = this.d;
    const a = row * d;
    for (let t = 0; t < this.parts.length; t++) {
      const part = this.parts[t] as Float64Array;
      const sum = this.sums[t] as Float64Array;
      for (let j = 0; j < d; j++) {
        const v = part[a + j] as number;
        sum[from * d + j] = (sum[from * d + j] as number) - v;
        sum[to * d + j] = (sum[to * d + j] as number) + v;
      }
    }
    this.counts[from] = (this.counts[from] as number) - 1;
    this.counts[to] = (this.counts[to] as number) + 1;
  }

  /**
   * Writes the mean of every cluster flagged in `dirty` (null: all) into `centroids`;
   * a cluster left empty takes the row farthest from its own centroid (lowest index on
   * ties, never a row already taken). Returns true when a cluster was empty.
   */
  writeMeans(data: Float32Array, labels: Int32Array, centroids: Float64Array, dirty: Uint8Array | null): boolean {
    const { d, k } = this;
    const empty: number[] = [];
    for (let c = 0; c < k; c++) {
      if (dirty && dirty[c] === 0) continue;
      const m = this.counts[c] as number;
      if (m === 0) {
        empty.push(c);
        continue;
      }
      for (let j = 0; j < d; j++) {
        let total = 0;
        for (const sum of this.sums) total += sum[c * d + j] as number;
        centroids[c * d + j] = total / m;
      }
    }
    if (empty.length === 0) return false;
    // Rare (a bad start on tiny data): the farthest rows become the empty clusters' centres.
    const dist = Float64Array.from({ length: labels.length }, (_, i) => squaredDistance(data, d, i, centroids, labels[i] as number));
    for (const c of empty) {
      let far = 0;
      for (let i = 1; i < labels.length; i++) if ((dist[i] as number) > (dist[far] as number)) far = i;
      centroids.set(data.subarray(far * d, far * d + d), c * d);
      dist[far] = -1;
    }
    return true;
  }
}

/**
 * Σ over rows (ascending) of the squared distance to the row's centroid.
 *
 * @example
 * const inertia = inertiaOfLabels(matrix, 31, labels, centroids);
 */
export function inertiaOfLabels(data: Float32Array, d: number, labels: Int32Array, centroids: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < labels.length; i++) inertia += squaredDistance(data, d, i, centroids, labels[i] as number);
  return inertia;
}
