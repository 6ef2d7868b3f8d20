/**
 * Nearest-centroid assignment over flat typed arrays: the on-device hot path, so no
 * allocation per call and no library.
 */

/**
 * Standardises a raw feature vector into `out` ((x − mean) / scale), and returns `out`.
 *
 * @example
 * const z = standardise(raw, manifest.scaling.mean, manifest.scaling.scale);
 */
export function standardise(raw: Float32Array, mean: ArrayLike<number>, scale: ArrayLike<number>, out: Float32Array = new Float32Array(raw.length)): Float32Array {
  for (let i = 0; i < raw.length; i++) out[i] = ((raw[i] as number) - (mean[i] as number)) / (scale[i] as number);
  return out;
}

/**
 * Packs k centroid rows into one row-major Float32Array of k·d values.
 *
 * @example
 * const flat = flattenCentroids(manifest.centroids); // length k * d
 */
export function flattenCentroids(rows: readonly (readonly number[])[]): Float32Array {
  const d = rows[0]?.length ?? 0;
  const flat = new Float32Array(rows.length * d);
  rows.forEach((row, c) => flat.set(row, c * d));
  return flat;
}

/**
 * Index of the centroid nearest to `x` in squared Euclidean distance (ties → lowest index).
 * `centroids` is row-major, k rows of `x.length` values.
 *
 * @example
 * assignSegment(new Float32Array([0, 0]), new Float32Array([5, 5, 0.1, 0])) // 1
 */
export function assignSegment(x: Float32Array, centroids: Float32Array): number {
  const d = x.length;
  const k = d === 0 ? 0 : centroids.length / d;
  let best = 0;
  let bestDist = Infinity;
  for (let c = 0, off = 0; c < k; c++, off += d) {
    let dist = 0;
    for (let j = 0; j < d; j++) {
      const diff = (x[j] as number) - (centroids[off + j] as number);
      dist += diff * diff;
    }
    if (dist < bestDist) {
      bestDist = dist;
      best = c;
    }
  }
  return best;
}
