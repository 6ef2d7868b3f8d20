/**
 * Exact rationals for DP parameters (noise scales, variances, probabilities). The
 * samplers only ever see integers: a parameter that entered as a float is first turned
 * into a rational here, once, and from then on everything is exact.
 */

/** num / den with den > 0, as BigInts so no parameter is ever silently rounded. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** Default bound on the denominator when a float is converted (see `rational`). */
export const DEFAULT_MAX_DENOMINATOR = 1_000_000n;

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * A rational in lowest terms with a positive denominator.
 *
 * @example
 * reduceRational({ num: 6n, den: -4n }) // { num: -3n, den: 2n }
 */
export function reduceRational(r: Rational): Rational {
  if (r.den === 0n) throw new RangeError('rational: zero denominator');
  const sign = r.den < 0n ? -1n : 1n;
  const g = gcd(r.num, r.den);
  return { num: (sign * r.num) / g, den: (sign * r.den) / g };
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function fromDecimalString(s: string): Rational {
  const m = DECIMAL.exec(s.trim());
  const [, sign = '', int = '', frac = '', exp = '0'] = m ?? [];
  if (!m || int + frac === '') throw new RangeError(`rational: not a decimal: ${JSON.stringify(s)}`);
  const e = Number(exp) - frac.length;
  if (!Number.isSafeInteger(e) || Math.abs(e) > 10_000) throw new RangeError(`rational: exponent out of range in ${JSON.stringify(s)}`);
  let num = BigInt(int + frac || '0');
  let den = 1n;
  if (e >= 0) num *= 10n ** BigInt(e);
  else den = 10n ** BigInt(-e);
  return reduceRational({ num: sign === '-' ? -num : num, den });
}

/**
 * Best rational approximation p/q of a finite float with q ≤ maxDen (continued fraction
 * with semiconvergents). Every finite double is itself a dyadic rational, but using that
 * exactly would turn 0.1 into 3602879701896397/2^55 and push every later computation onto
 * BigInt for no benefit; the best bounded approximation instead recovers the decimal the
 * caller meant (0.1 → 1/10). No fraction with denominator ≤ maxDen is closer to the float,
 * and the error is below 1/(maxDen + 1) (Dirichlet) in any case.
 */
function fromFloat(x: number, maxDen: bigint): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`rational: not finite: ${x}`);
  if (Number.isInteger(x)) return { num: BigInt(x), den: 1n };
  const negative = x < 0;
  // Exact value of the double as n / 2^k, so the expansion below runs on integers.
  let k = 0n;
  let y = Math.abs(x);
  while (!Number.isInteger(y)) {
    y *= 2;
    k++;
  }
  let n = BigInt(y);
  let d = 1n << k;
  // Convergents p/q of n/d, stopping before q exceeds maxDen.
  let [p0, q0, p1, q1] = [0n, 1n, 1n, 0n];
  for (;;) {
    const a = n / d;
    const q2 = q0 + a * q1;
    if (q2 > maxDen) {
      // Largest semiconvergent that still fits; keep it only if it beats the last convergent.
      const j = (maxDen - q0) / q1;
      const [ps, qs] = [p0 + j * p1, q0 + j * q1];
      const exact = { num: BigInt(y), den: 1n << k };
      const err = (p: bigint, q: bigint) => {
        const diff = p * exact.den - exact.num * q;
        return { abs: diff < 0n ? -diff : diff, q };
      };
      const e1 = err(p1, q1);
      const es = err(ps, qs);
      // Compare |ps/qs − x| < |p1/q1 − x| without division: |es|·q1 < |e1|·qs.
      const [pBest, qBest] = j > 0n && es.abs * q1 < e1.abs * qs ? [ps, qs] : [p1, q1];
      return reduceRational({ num: negative ? -pBest : pBest, den: qBest });
    }
    [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
    const r = n - a * d;
    if (r === 0n) return reduceRational({ num: negative ? -p1 : p1, den: q1 });
    [n, d] = [d, r];
  }
}

/**
 * Builds a `Rational` exactly enough for a DP parameter:
 * - a bigint or an integer-valued number: exact (x/1);
 * - a decimal string ("1.5", "2.5e-3"): exact, whatever its length;
 * - any other number: the best rational approximation with denominator ≤ `maxDen`
 *   (default 10^6), which returns short decimals exactly (0.1 → 1/10, 1234.567 →
 *   1234567/1000); no fraction with a denominator ≤ maxDen is closer, so the error is
 *   below 1/(maxDen + 1) (10^-6 by default). Pass a string when the exact
 *   decimal matters, and account privacy from the rational actually used.
 * - a `Rational`: reduced to lowest terms.
 *
 * @example
 * rational(1.5)      // { num: 3n, den: 2n }
 * rational('0.001')  // { num: 1n, den: 1000n }
 * rational(Math.PI)  // { num: 3126535n, den: 995207n }
 */
export function rational(x: number | bigint | string | Rational, maxDen: bigint = DEFAULT_MAX_DENOMINATOR): Rational {
  if (typeof x === 'bigint') return { num: x, den: 1n };
  if (typeof x === 'string') return fromDecimalString(x);
  if (typeof x === 'number') {
    if (maxDen < 1n) throw new RangeError(`rational: maxDen must be ≥ 1, got ${maxDen}`);
    return fromFloat(x, maxDen);
  }
  return reduceRational(x);
}

/**
 * The float nearest to a rational (for reporting and accounting, never for sampling).
 *
 * @example
 * rationalToNumber({ num: 1n, den: 3n }) // 0.333…
 */
export function rationalToNumber(r: Rational): number {
  const { num, den } = r;
  const bits = Math.max((num < 0n ? -num : num).toString(2).length, den.toString(2).length);
  // Number(bigint) rounds to the nearest double, so the quotient is within 2 ulps; only
  // terms beyond ~2^1000 need scaling first, so neither side overflows to Infinity.
  if (bits <= 1000) return Number(num) / Number(den);
  const shift = BigInt(bits - 1000);
  return Number(num >> shift) / Number(den >> shift);
}

/**
 * ⌊√n⌋ for a non-negative BigInt (Newton's method on integers, exact).
 *
 * @example
 * floorSqrt(99n) // 9n
 */
export function floorSqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('floorSqrt of a negative number');
  if (n < 2n) return n;
  // Start above the root (2^⌈bits/2⌉) so the iteration decreases monotonically onto it.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
