/**
 * ε of the weekly secure counts rounds, per measure, from the leader's `COUNTS_EPSILON`
 * var: "segment" or "segment,lifecycle,impressions".
 *
 * Why these defaults: each measure's rounds close 7 days apart, so at most five of each
 * fall in any 30 days. Composed under zCDP at δ = 1e-9 (the device's and the helper's
 * count), five weeks of 0.4 + 0.3 + 0.3 come to about 1.38 ε, within 2 ε per 30 days of
 * measurement; summed plainly they would be 5. The segment count, which marketers read
 * most, gets the largest share (noise ≈ 20 devices, 1 SD, both aggregators' noise);
 * lifecycle stages and impressions ≈ 26.
 */
import type { CountsMeasure } from '@edgeseg/shared';

/** ε per counts measure. */
export type CountsEpsilon = Readonly<Record<CountsMeasure, number>>;

/** The defaults (see the file comment). */
export const DEFAULT_COUNTS_EPSILON: CountsEpsilon = Object.freeze({ segment: 0.4, lifecycle: 0.3, impressions: 0.3 });

/**
 * The ε of each measure's counts rounds from `COUNTS_EPSILON`: one number sets the
 * segment rounds' (the others keep their defaults), three set all. Each must be in
 * (0, 20]; anything else throws naming the var, so a typo never opens rounds at an ε
 * nobody meant.
 *
 * @example
 * countsEpsilonOf('0.4') // { segment: 0.4, lifecycle: 0.3, impressions: 0.3 }
 * countsEpsilonOf('0.5,0.25,0.25') // { segment: 0.5, lifecycle: 0.25, impressions: 0.25 }
 */
export function countsEpsilonOf(value: string | undefined): CountsEpsilon {
  if (value === undefined || value.trim() === '') return DEFAULT_COUNTS_EPSILON;
  const parts = value.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if ((parts.length !== 1 && parts.length !== 3) || !parts.every((x) => x > 0 && x <= 20)) {
    throw new RangeError(`COUNTS_EPSILON: must be "segment" or "segment,lifecycle,impressions", each in (0, 20], got ${JSON.stringify(value)}`);
  }
  const [segment, lifecycle = DEFAULT_COUNTS_EPSILON.lifecycle, impressions = DEFAULT_COUNTS_EPSILON.impressions] = parts as [number, number?, number?];
  return { segment, lifecycle, impressions };
}
