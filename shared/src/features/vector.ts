import { DEVICE_TYPES } from '../events.ts';
import { FEATURE_DIM_V1 } from './schema.ts';
import { DAY_MS, DECAY_HALF_LIFE_DAYS, decayFactor, type FeatureState } from './state.ts';

/**
 * Days of history that the decayed sums stand for: ∫₀ᵀ 2^(−t/H) dt for tenure T, at
 * least one day. Dividing a decayed sum by it gives an honest rate for a viewer of any
 * tenure (a two-day-old viewer is not diluted over four weeks).
 */
function effectiveWindowDays(tenureDays: number): number {
  const meanLife = DECAY_HALF_LIFE_DAYS / Math.LN2;
  return Math.max(1, meanLife * (1 - 2 ** (-tenureDays / DECAY_HALF_LIFE_DAYS)));
}

function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}

/**
 * The raw (unstandardised) v1 feature vector at time `nowMs`, or null before any event.
 *
 * @example
 * const x = featureVector(state, Date.now()); // Float32Array(15)
 */
export function featureVector(s: FeatureState, nowMs: number): Float32Array | null {
  if (s.firstAt === null || s.lastAt === null) return null;
  const now = Math.max(nowMs, s.lastAt);
  const tenureDays = (now - s.firstAt) / DAY_MS;
  const perWeek = (7 / effectiveWindowDays(tenureDays)) * decayFactor(now - s.decayedAt);
  const x = new Float32Array(FEATURE_DIM_V1);
  x[0] = Math.log1p(s.sessions * perWeek);
  x[1] = Math.log1p((s.watchSec / 3600) * perWeek);
  x[2] = Math.log1p(s.titles * perWeek);
  x[3] = share(s.completes, s.starts);
  x[4] = share(s.skips, s.starts);
  x[5] = Math.log1p((now - s.lastAt) / DAY_MS);
  x[6] = Math.log1p(tenureDays);
  x[7] = share(s.evening, s.starts);
  x[8] = share(s.weekend, s.starts);
  x[9] = share(s.device[DEVICE_TYPES.indexOf('tv')] as number, s.starts);
  x[10] = share(s.device[DEVICE_TYPES.indexOf('mobile')] as number, s.starts);
  const genreTotal = s.genre.reduce((a, b) => a + b, 0);
  for (let g = 0; g < s.genre.length; g++) x[11 + g] = share(s.genre[g] as number, genreTotal);
  return x;
}
