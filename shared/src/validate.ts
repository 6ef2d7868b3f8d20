/**
 * A tiny runtime validator shared by device and edge. It exists instead of a schema
 * library because it must also ship in the SDK bundle (≤10 KB gzip), and the wire
 * contracts are small enough to describe by hand.
 */

/** Result of a runtime check: the typed value, or every problem found (path + message). */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A plain JSON object (not null, not an array). */
export type JsonObject = Record<string, unknown>;

/**
 * True when `v` is a plain object.
 *
 * @example
 * isObject({ a: 1 }) // true
 * isObject([1])      // false
 */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * True when `v` is an integer within [min, max].
 *
 * @example
 * isIntIn(3, 0, 7) // true
 */
export function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * True when `v` is a finite number within [min, max].
 *
 * @example
 * isNumberIn(0.5, 0, 1) // true
 */
export function isNumberIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

/**
 * Names of keys in `o` that are not in `allowed`: wire objects are closed, so an
 * unexpected field is an error rather than silently carried along.
 *
 * @example
 * unknownKeys({ a: 1, b: 2 }, ['a']) // ['b']
 */
export function unknownKeys(o: JsonObject, allowed: readonly string[]): string[] {
  return Object.keys(o).filter((key) => !allowed.includes(key));
}
