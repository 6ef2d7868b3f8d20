import { describe, expect, it } from 'vitest';
import type { PlaybackEvent } from '../events.ts';
import { FEATURE_NAMES_V1 } from './schema.ts';
import { DAY_MS, emptyFeatureState, updateFeatureState } from './state.ts';
import { featureVector } from './vector.ts';

const SAT_20H = Date.UTC(2026, 10, 21, 20, 0); // Saturday 21 Nov 2026, 20:00 UTC
const H = 28; // half-life, days

function ev(type: PlaybackEvent['type'], at: number, extra: Partial<PlaybackEvent> = {}): PlaybackEvent {
  return { type, contentId: 'm1', genres: ['Drama'], durationSec: 3600, positionSec: 0, device: 'tv', at, ...extra };
}

function feature(x: Float32Array | null, name: string): number {
  if (!x) throw new Error('no vector');
  return x[FEATURE_NAMES_V1.indexOf(name)] as number;
}

describe('featureVector (schema v1), against hand-computed values', () => {
  it('is null before any event', () => {
    expect(featureVector(emptyFeatureState(), SAT_20H)).toBeNull();
  });

  it('one finished drama on a TV, Saturday evening, seen the same instant', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H, { genres: ['Drama', 'Romance'] }), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600, genres: ['Drama', 'Romance'] }), 0);
    const x = featureVector(s, SAT_20H);
    // Tenure 0 → the effective window is its 1-day floor → ×7 per week.
    expect(feature(x, 'sessions_per_week')).toBeCloseTo(Math.log1p(7), 5);
    expect(feature(x, 'hours_per_week')).toBeCloseTo(Math.log1p(7), 5);
    expect(feature(x, 'titles_per_week')).toBeCloseTo(Math.log1p(7), 5);
    expect(feature(x, 'completion_rate')).toBe(1);
    expect(feature(x, 'skip_rate')).toBe(0);
    expect(feature(x, 'days_since_last')).toBe(0);
    expect(feature(x, 'tenure_days')).toBe(0);
    expect(feature(x, 'evening_share')).toBe(1);
    expect(feature(x, 'weekend_share')).toBe(1);
    expect(feature(x, 'device_tv_share')).toBe(1);
    expect(feature(x, 'device_mobile_share')).toBe(0);
    // Drama and Romance are one family: counted once, not twice.
    expect(feature(x, 'genre_drama_share')).toBe(1);
    expect(feature(x, 'genre_comedy_share')).toBe(0);
  });

  it('decays older viewing and divides by the tenure-aware window', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600 }), 0);
    const later = SAT_20H + 14 * DAY_MS; // a Saturday again, half a half-life later
    updateFeatureState(s, ev('play', later, { contentId: 'm2', genres: ['Comedy'], device: 'mobile' }), 0);
    updateFeatureState(s, ev('skip', later + 600_000, { contentId: 'm2', genres: ['Comedy'], device: 'mobile', positionSec: 600 }), 0);
    const now = later + 600_000;
    const x = featureVector(s, now);

    const f = (days: number) => 2 ** (-days / H);
    const d = 600_000 / DAY_MS; // the 10 minutes of the second viewing
    const older = f(14 + d); // weight of the first viewing at `now`
    const newer = f(d);
    const tenure = 14 + d;
    const window = (H / Math.LN2) * (1 - 2 ** (-tenure / H));
    const perWeek = 7 / window;
    expect(feature(x, 'sessions_per_week')).toBeCloseTo(Math.log1p((older + newer) * perWeek), 5);
    // The 10 minutes watched are counted at the skip, i.e. at `now` (weight 1).
    expect(feature(x, 'hours_per_week')).toBeCloseTo(Math.log1p((older * 1 + 600 / 3600) * perWeek), 5);
    expect(feature(x, 'completion_rate')).toBeCloseTo(f(14) / (f(14) + 1), 5); // shares: weights at the second event
    expect(feature(x, 'skip_rate')).toBeCloseTo(1 / (older + newer), 5); // the skip is counted at `now`
    expect(feature(x, 'device_tv_share')).toBeCloseTo(f(14) / (f(14) + 1), 5);
    expect(feature(x, 'device_mobile_share')).toBeCloseTo(1 / (f(14) + 1), 5);
    expect(feature(x, 'genre_comedy_share')).toBeCloseTo(1 / (f(14) + 1), 5);
    expect(feature(x, 'tenure_days')).toBeCloseTo(Math.log1p(tenure), 5);
    expect(feature(x, 'days_since_last')).toBeCloseTo(0, 5);
  });

  it('uses the device time zone for evenings and weekends', () => {
    const s = emptyFeatureState();
    // Friday 23:30 UTC is Saturday 01:30 in UTC+2 (offset −120): weekend, not evening.
    updateFeatureState(s, ev('play', Date.UTC(2026, 10, 20, 23, 30)), -120);
    const x = featureVector(s, Date.UTC(2026, 10, 20, 23, 30));
    expect(feature(x, 'evening_share')).toBe(0);
    expect(feature(x, 'weekend_share')).toBe(1);
  });

  it('counts watch time from positions, not from seeks over unwatched parts', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('pause', SAT_20H, { positionSec: 600 }), 0);
    updateFeatureState(s, ev('seek', SAT_20H, { positionSec: 3000 }), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600 }), 0);
    expect(s.watchSec).toBe(1200);
    expect(s.starts).toBe(1);
    expect(s.titles).toBe(1);
  });

  it('splits sessions on a 30-minute gap and weights a late-arriving old event by its age', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('play', SAT_20H + 20 * 60_000, { contentId: 'm2' }), 0);
    expect(s.sessions).toBeCloseTo(1, 3);
    updateFeatureState(s, ev('play', SAT_20H + 60 * 60_000, { contentId: 'm3' }), 0);
    expect(s.sessions).toBeGreaterThan(1.99);
    const old = SAT_20H - 28 * DAY_MS;
    const sessionsBefore = s.sessions;
    updateFeatureState(s, ev('play', old, { contentId: 'm0' }), 0);
    // Decayed sums refer to the state's clock (one hour after SAT_20H): the event,
    // four weeks and an hour older than that, adds a little under half a session.
    expect(s.sessions - sessionsBefore).toBeCloseTo(2 ** (-(28 + 1 / 24) / H), 9);
    expect(s.firstAt).toBe(old);
  });
});
