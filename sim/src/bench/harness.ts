/**
 * What every benchmark shares: the row it reports, medians, and interleaved measurement
 * (ours and the reference alternate round by round, so noise on a shared machine hits
 * both sides equally and the ratio stays meaningful even when absolute times drift).
 */

/** One line of the results table. Values are "lower is better", in `unit`. */
export interface BenchRow {
  name: string;
  unit: 'µs' | 'ms';
  /** Our code (median). */
  ours: number;
  /** The reference or trivial baseline measured side by side (median). */
  reference: number;
  /** What the reference is, printed under the table. */
  referenceLabel: string;
  /** Upper bound for `ours`, in `unit`; reported, never asserted. */
  target?: number;
  /** How it was measured (rounds, sizes), printed under the table. */
  note?: string;
}

/** A benchmark: one file under sim/src/bench/, listed in index.ts. */
export interface Benchmark {
  /** Short name used on the command line: `npm run bench -- <name>`. */
  name: string;
  description: string;
  run(): Promise<BenchRow[]>;
}

/**
 * Median of a non-empty list.
 *
 * @example
 * median([3, 1, 2]) // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Runs `ours` and `reference` in alternating rounds (AB, BA, AB, …; the first `warmup`
 * rounds are discarded) and returns every kept measurement of each side.
 *
 * @example
 * const { ours, reference } = await interleaved(21, 3, async () => timeOurs(), async () => timeRef());
 * median(ours) / median(reference)
 */
export async function interleaved<T>(rounds: number, warmup: number, ours: (round: number) => Promise<T> | T, reference: (round: number) => Promise<T> | T): Promise<{ ours: T[]; reference: T[] }> {
  const out = { ours: [] as T[], reference: [] as T[] };
  for (let r = 0; r < warmup + rounds; r++) {
    let a: T;
    let b: T;
    if (r % 2 === 0) {
      a = await ours(r);
      b = await reference(r);
    } else {
      b = await reference(r);
      a = await ours(r);
    }
    if (r >= warmup) {
      out.ours.push(a);
      out.reference.push(b);
    }
  }
  return out;
}

/**
 * A number with three significant digits (no exponent for the ranges we print).
 *
 * @example
 * formatNumber(0.061234) // '0.0612'
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 6));
}
