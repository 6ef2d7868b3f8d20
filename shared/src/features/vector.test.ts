import { describe, expect, it } from 'vitest';
import type { PlaybackEvent } from '../events.ts';
import { FEATURE_DIM_V1, FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, GENRE_FAMILIES, genreFamily } from './schema.ts';
import { DAY_MS, FEATURE_STATE_VERSION, decayFactor, emptyFeatureState, updateFeatureState } from './state.ts';
import { ev, feature } from './test-helpers.ts';
import { featureVector } from './vector.ts';

const SAT_20H = Date.UTC(2026, 10, 21, 20, 0); // Saturday 21 Nov 2026, 20:00 UTC
const H = 28; // half-life, days
const MIN = 60_000;
const f = (days: number) => 2 ** (-days / H);


describe('schema v1', () => {
  it('has 31 uniquely named dimensions under the unchanged schema id', () => {
    expect(FEATURE_SCHEMA_ID).toBe('edgeseg.features.v1');
    expect(FEATURE_DIM_V1).toBe(31);
    expect(new Set(FEATURE_NAMES_V1).size).toBe(31);
    for (const g of GENRE_FAMILIES) expect(FEATURE_NAMES_V1).toContain(`genre_${g}_share`);
  });

  it('stamps the state with version 2 and keeps it plain JSON', () => {
    const s = emptyFeatureState();
    expect(FEATURE_STATE_VERSION).toBe(2);
    expect(s.v).toBe(2);
    updateFeatureState(s, ev('play', SAT_20H, { seriesId: 's1' }), 0);
    updateFeatureState(s, ev('pause', SAT_20H + 10 * MIN, { seriesId: 's1', positionSec: 600 }), 0);
    const copy = JSON.parse(JSON.stringify(s)) as typeof s;
    expect(copy).toEqual(s);
    expect(featureVector(copy, SAT_20H + DAY_MS)).toEqual(featureVector(s, SAT_20H + DAY_MS));
  });

  it.each<[string, string | undefined]>([
    // Every MovieLens genre (ml-1m spellings and ml-latest ones).
    ['Action', 'action'],
    ['Adventure', 'action'],
    ['War', 'action'],
    ['Western', 'action'],
    ['Animation', 'family'],
    ["Children's", 'family'],
    ['Children', 'family'],
    ['Musical', 'family'],
    ['Comedy', 'comedy'],
    ['Crime', 'thriller'],
    ['Mystery', 'thriller'],
    ['Thriller', 'thriller'],
    ['Film-Noir', 'thriller'],
    ['Documentary', 'documentary'],
    ['Drama', 'drama'],
    ['Fantasy', 'scifi_fantasy'],
    ['Sci-Fi', 'scifi_fantasy'],
    ['Horror', 'horror'],
    ['Romance', 'romance'],
    // Left out on purpose: a screen format and the "no genre" marker.
    ['IMAX', undefined],
    ['(no genres listed)', undefined],
    // Spelling variants, and names that must not reach Object.prototype.
    [' science fiction ', 'scifi_fantasy'],
    ['SCI FI', 'scifi_fantasy'],
    ['constructor', undefined],
    ['__proto__', undefined],
  ])('maps genre %j to %s', (genre, family) => {
    expect(genreFamily(genre)).toBe(family);
  });
});

describe('featureVector (schema v1), against hand-computed values', () => {
  it('is null before any event', () => {
    expect(featureVector(emptyFeatureState(), SAT_20H)).toBeNull();
  });

  it('one finished drama-romance on a TV, Saturday evening, seen the same instant: every feature', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H, { genres: ['Drama', 'Romance'] }), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600, genres: ['Drama', 'Romance'] }), 0);
    const x = featureVector(s, SAT_20H);
    // Tenure 0 → the effective window is its 1-day floor → ×7 per week.
    const expected: Record<string, number> = {
      sessions_per_week: Math.log1p(7),
      hours_per_week: Math.log1p(1 * 7),
      titles_per_week: Math.log1p(7),
      minutes_per_session: Math.log1p(60 / 1),
      days_since_last: 0,
      tenure_days: 0,
      active_days_share: 1 / 1,
      completion_rate: 1,
      skip_rate: 0,
      abandon_rate: 0,
      mean_watch_fraction: 3600 / 3600,
      binge_ratio: 0,
      series_share: 0,
      morning_share: 0,
      daytime_share: 0,
      evening_share: 1,
      late_night_share: 0,
      weekend_share: 1,
      device_tv_share: 1,
      device_mobile_share: 0,
      device_desktop_share: 0,
      device_tablet_share: 0,
      // Two families: the start's weight is split evenly over them.
      genre_drama_share: 0.5,
      genre_comedy_share: 0,
      genre_action_share: 0,
      genre_thriller_share: 0,
      genre_horror_share: 0,
      genre_scifi_fantasy_share: 0,
      genre_romance_share: 0.5,
      genre_documentary_share: 0,
      genre_family_share: 0,
    };
    expect(Object.keys(expected)).toEqual([...FEATURE_NAMES_V1]);
    for (const [name, value] of Object.entries(expected)) expect(feature(x, name), name).toBeCloseTo(value, 5);
  });

  it('decays older viewing and divides by the tenure-aware window', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600 }), 0);
    const later = SAT_20H + 14 * DAY_MS; // a Saturday again, half a half-life later
    updateFeatureState(s, ev('play', later, { contentId: 'm2', genres: ['Comedy'], device: 'mobile' }), 0);
    updateFeatureState(s, ev('skip', later + 10 * MIN, { contentId: 'm2', genres: ['Comedy'], device: 'mobile', positionSec: 600 }), 0);
    const now = later + 10 * MIN;
    const x = featureVector(s, now);

    const d = 10 * MIN / DAY_MS; // the 10 minutes of the second viewing
    const older = f(14 + d); // weight of the first viewing at `now`
    const newer = f(d);
    const tenure = 14 + d;
    const window = (H / Math.LN2) * (1 - 2 ** (-tenure / H));
    const perWeek = 7 / window;
    expect(feature(x, 'sessions_per_week')).toBeCloseTo(Math.log1p((older + newer) * perWeek), 5);
    // The 10 minutes watched are counted at the skip, i.e. at `now` (weight 1).
    expect(feature(x, 'hours_per_week')).toBeCloseTo(Math.log1p((older * 1 + 600 / 3600) * perWeek), 5);
    expect(feature(x, 'titles_per_week')).toBeCloseTo(Math.log1p((older + newer) * perWeek), 5);
    expect(feature(x, 'minutes_per_session')).toBeCloseTo(Math.log1p((older * 60 + 10) / (older + newer)), 5);
    expect(feature(x, 'completion_rate')).toBeCloseTo(f(14) / (f(14) + 1), 5); // shares: weights at the second event
    expect(feature(x, 'skip_rate')).toBeCloseTo(1 / (older + newer), 5); // the skip is counted at `now`
    expect(feature(x, 'abandon_rate')).toBe(0); // one finished, one skipped: neither is an abandon
    // Whole title (fraction 1) at the first viewing, 600 of 3600 s at `now`.
    expect(feature(x, 'mean_watch_fraction')).toBeCloseTo((older * 1 + 600 / 3600) / (older + newer), 5);
    expect(feature(x, 'device_tv_share')).toBeCloseTo(f(14) / (f(14) + 1), 5);
    expect(feature(x, 'device_mobile_share')).toBeCloseTo(1 / (f(14) + 1), 5);
    expect(feature(x, 'genre_drama_share')).toBeCloseTo(f(14) / (f(14) + 1), 5);
    expect(feature(x, 'genre_comedy_share')).toBeCloseTo(1 / (f(14) + 1), 5);
    expect(feature(x, 'tenure_days')).toBeCloseTo(Math.log1p(tenure), 5);
    expect(feature(x, 'days_since_last')).toBeCloseTo(0, 5);
    // Two viewing days out of the 15 from the first to today, each weighted at its midnight.
    let days = 0;
    for (let k = 0; k <= 14; k++) days += f(k);
    expect(feature(x, 'active_days_share')).toBeCloseTo((f(14) + 1) / days, 5);

    // Three idle days later: rates decay, shares of starts do not, recency grows.
    const idle = featureVector(s, now + 3 * DAY_MS);
    const window3 = (H / Math.LN2) * (1 - 2 ** (-(tenure + 3) / H));
    expect(feature(idle, 'sessions_per_week')).toBeCloseTo(Math.log1p((older + newer) * f(3) * (7 / window3)), 5);
    expect(feature(idle, 'days_since_last')).toBeCloseTo(Math.log1p(3), 5);
    expect(feature(idle, 'tenure_days')).toBeCloseTo(Math.log1p(tenure + 3), 5);
    expect(feature(idle, 'device_tv_share')).toBeCloseTo(f(14) / (f(14) + 1), 5);
    let days3 = 0;
    for (let k = 0; k <= 17; k++) days3 += f(k);
    expect(feature(idle, 'active_days_share')).toBeCloseTo((f(17) + f(3)) / days3, 5);
  });

  it('counts a rewatch as a start but not as another title, and minutes per session over sessions', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600 }), 0);
    updateFeatureState(s, ev('play', SAT_20H), 0); // the same film again, from the start
    updateFeatureState(s, ev('pause', SAT_20H, { positionSec: 1800 }), 0);
    const x = featureVector(s, SAT_20H);
    expect(s.starts).toBe(2);
    expect(s.titles).toBe(1);
    expect(feature(x, 'titles_per_week')).toBeCloseTo(Math.log1p(1 * 7), 5);
    expect(feature(x, 'minutes_per_session')).toBeCloseTo(Math.log1p((60 + 30) / 1), 5);
    expect(feature(x, 'completion_rate')).toBeCloseTo(1 / 2, 5);
    expect(feature(x, 'mean_watch_fraction')).toBeCloseTo((1 + 0.5) / 2, 5);
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
    // 600 + 600 s watched of 3600 s.
    expect(feature(featureVector(s, SAT_20H), 'mean_watch_fraction')).toBeCloseTo(1200 / 3600, 5);
  });

  it('caps a title’s watched fraction at 1 when parts are watched twice', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('pause', SAT_20H, { positionSec: 3000 }), 0);
    updateFeatureState(s, ev('seek', SAT_20H, { positionSec: 0 }), 0);
    updateFeatureState(s, ev('complete', SAT_20H, { positionSec: 3600 }), 0);
    expect(s.watchSec).toBe(3000 + 3600); // time spent counts in full
    expect(feature(featureVector(s, SAT_20H), 'mean_watch_fraction')).toBe(1); // min(1, 6600 / 3600)
  });

  it('splits sessions on a 30-minute gap and weights a late-arriving old event by its age', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('play', SAT_20H + 20 * MIN, { contentId: 'm2' }), 0);
    expect(s.sessions).toBeCloseTo(1, 3);
    updateFeatureState(s, ev('play', SAT_20H + 60 * MIN, { contentId: 'm3' }), 0);
    expect(s.sessions).toBeGreaterThan(1.99);
    const old = SAT_20H - 28 * DAY_MS;
    const sessionsBefore = s.sessions;
    updateFeatureState(s, ev('play', old, { contentId: 'm0' }), 0);
    // Decayed sums refer to the state's clock (one hour after SAT_20H): the event,
    // four weeks and an hour older than that, adds a little under half a session.
    expect(s.sessions - sessionsBefore).toBeCloseTo(2 ** (-(28 + 1 / 24) / H), 9);
    expect(s.firstAt).toBe(old);
  });

  it('does not split on a gap of exactly 30 minutes, splits on 30 minutes and 1 ms', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT_20H), 0);
    updateFeatureState(s, ev('pause', SAT_20H + 30 * MIN, { positionSec: 1800 }), 0);
    expect(s.sessions).toBeCloseTo(decayFactor(30 * MIN), 12); // still the one session, 30 minutes old
    updateFeatureState(s, ev('play', SAT_20H + 60 * MIN + 1, { positionSec: 1800 }), 0);
    expect(s.sessions).toBeCloseTo(decayFactor(60 * MIN + 1) + 1, 12);
  });
});

describe('dayparts, weekends and time zones', () => {
  // tzOffsetMin is Date#getTimezoneOffset(): minutes *behind* UTC, so UTC+1 is −60.
  const SAT = Date.UTC(2026, 10, 21); // Saturday 21 Nov 2026, 00:00 UTC
  it.each<[string, string, number, number]>([
    ['04:59 local', 'late_night_share', 4 * 60 + 59, 0],
    ['05:00 local', 'morning_share', 5 * 60, 0],
    ['11:59 local', 'morning_share', 11 * 60 + 59, 0],
    ['12:00 local', 'daytime_share', 12 * 60, 0],
    ['17:59 local', 'daytime_share', 17 * 60 + 59, 0],
    ['18:00 local', 'evening_share', 18 * 60, 0],
    ['22:59 local', 'evening_share', 22 * 60 + 59, 0],
    ['23:00 local', 'late_night_share', 23 * 60, 0],
    ['00:00 local', 'late_night_share', 0, 0],
    // 05:00 in UTC+1 is 04:00 UTC; 18:00 in UTC−5 is 23:00 UTC.
    ['05:00 in UTC+1', 'morning_share', 4 * 60, -60],
    ['04:59 in UTC+1', 'late_night_share', 3 * 60 + 59, -60],
    ['18:00 in UTC−5', 'evening_share', 23 * 60, 300],
    ['17:59 in UTC−5', 'daytime_share', 22 * 60 + 59, 300],
  ])('a start at %s counts as %s', (_, daypart, utcMinute, tz) => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT + utcMinute * MIN), tz);
    const x = featureVector(s, SAT + utcMinute * MIN);
    for (const name of ['morning_share', 'daytime_share', 'evening_share', 'late_night_share']) {
      expect(feature(x, name), name).toBe(name === daypart ? 1 : 0);
    }
  });

  it('weights dayparts by start, decayed to the latest start', () => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', SAT + (11 * 60 + 59) * MIN), 0);
    updateFeatureState(s, ev('play', SAT + 12 * 60 * MIN, { contentId: 'm2' }), 0);
    const x = featureVector(s, SAT + 12 * 60 * MIN);
    const m = f(1 / (24 * 60)); // the morning start, one minute older
    expect(feature(x, 'morning_share')).toBeCloseTo(m / (m + 1), 6);
    expect(feature(x, 'daytime_share')).toBeCloseTo(1 / (m + 1), 6);
  });

  it.each<[string, number, number, number]>([
    ['Friday 23:59 UTC', SAT - MIN, 0, 0],
    ['Saturday 00:00 UTC', SAT, 0, 1],
    ['Sunday 23:59 UTC', SAT + 2 * DAY_MS - MIN, 0, 1],
    ['Monday 00:00 UTC', SAT + 2 * DAY_MS, 0, 0],
    // Friday 23:30 UTC is Saturday 01:30 in UTC+2; Saturday 03:00 UTC is Friday 22:00 in UTC−5.
    ['Friday 23:30 UTC in UTC+2', SAT - 30 * MIN, -120, 1],
    ['Saturday 03:00 UTC in UTC−5', SAT + 3 * 60 * MIN, 300, 0],
  ])('weekend share of a start at %s', (_, at, tz, weekend) => {
    const s = emptyFeatureState();
    updateFeatureState(s, ev('play', at), tz);
    expect(feature(featureVector(s, at), 'weekend_share')).toBe(weekend);
  });

  it('uses the device time zone for dayparts and weekends together', () => {
    const s = emptyFeatureState();
    // Friday 23:30 UTC is Saturday 01:30 in UTC+2 (offset −120): weekend, late night, not evening.
    updateFeatureState(s, ev('play', Date.UTC(2026, 10, 20, 23, 30)), -120);
    const x = featureVector(s, Date.UTC(2026, 10, 20, 23, 30));
    expect(feature(x, 'evening_share')).toBe(0);
    expect(feature(x, 'late_night_share')).toBe(1);
    expect(feature(x, 'weekend_share')).toBe(1);
  });

  it('counts active days on the local calendar', () => {
    // Thursday 23:30 UTC and Saturday 00:30 UTC.
    const thu = Date.UTC(2026, 10, 19, 23, 30);
    const sat = Date.UTC(2026, 10, 21, 0, 30);
    const inUtc = emptyFeatureState();
    const inUtcPlus2 = emptyFeatureState();
    for (const [s, tz] of [[inUtc, 0], [inUtcPlus2, -120]] as const) {
      updateFeatureState(s, ev('play', thu), tz);
      updateFeatureState(s, ev('play', sat, { contentId: 'm2' }), tz);
    }
    // UTC: Thursday and Saturday of Thursday–Saturday → 2 of 3 days.
    expect(feature(featureVector(inUtc, sat), 'active_days_share')).toBeCloseTo((f(2) + 1) / (f(2) + f(1) + 1), 6);
    // UTC+2: Friday 01:30 and Saturday 02:30 → 2 of 2 days.
    expect(feature(featureVector(inUtcPlus2, sat), 'active_days_share')).toBeCloseTo((f(1) + 1) / (f(1) + 1), 6);
    // Later the same local day, nothing changes: both sums are dated by midnights.
    expect(feature(featureVector(inUtc, sat + 20 * 60 * MIN), 'active_days_share')).toBeCloseTo((f(2) + 1) / (f(2) + f(1) + 1), 6);
  });
});

describe('device mix and genre affinity', () => {
  it('shares starts over all four device types', () => {
    const s = emptyFeatureState();
    const devices = ['tv', 'tv', 'mobile', 'tablet'] as const;
    devices.forEach((device, i) => updateFeatureState(s, ev('play', SAT_20H, { contentId: `m${i}`, device }), 0));
    const x = featureVector(s, SAT_20H);
    expect(feature(x, 'device_tv_share')).toBe(2 / 4);
    expect(feature(x, 'device_mobile_share')).toBe(1 / 4);
    expect(feature(x, 'device_desktop_share')).toBe(0 / 4);
    expect(feature(x, 'device_tablet_share')).toBe(1 / 4);
  });

  it('splits a start evenly over its distinct families and ignores untracked genres', () => {
    const s = emptyFeatureState();
    // Action + Adventure are one family, IMAX is ignored: ½ action, ½ sci-fi/fantasy.
    updateFeatureState(s, ev('play', SAT_20H, { contentId: 'a', genres: ['Action', 'Adventure', 'Sci-Fi', 'IMAX'] }), 0);
    // A third each.
    updateFeatureState(s, ev('play', SAT_20H, { contentId: 'b', genres: ['Animation', "Children's", 'Comedy', 'Horror'] }), 0);
    // One whole documentary.
    updateFeatureState(s, ev('play', SAT_20H, { contentId: 'c', genres: ['Documentary'] }), 0);
    // No tracked genre at all: not a start of any family, so it dilutes no share.
    updateFeatureState(s, ev('play', SAT_20H, { contentId: 'd', genres: ['(no genres listed)'] }), 0);
    // Crime + Thriller + Film-Noir + Mystery: one family, counted once.
    updateFeatureState(s, ev('play', SAT_20H, { contentId: 'e', genres: ['Crime', 'Thriller', 'Film-Noir', 'Mystery'] }), 0);
    const x = featureVector(s, SAT_20H);
    const total = 4; // a, b, c and e; d adds nothing
    expect(feature(x, 'genre_action_share')).toBeCloseTo(0.5 / total, 6);
    expect(feature(x, 'genre_scifi_fantasy_share')).toBeCloseTo(0.5 / total, 6);
    expect(feature(x, 'genre_family_share')).toBeCloseTo(1 / 3 / total, 6);
    expect(feature(x, 'genre_comedy_share')).toBeCloseTo(1 / 3 / total, 6);
    expect(feature(x, 'genre_horror_share')).toBeCloseTo(1 / 3 / total, 6);
    expect(feature(x, 'genre_documentary_share')).toBeCloseTo(1 / total, 6);
    expect(feature(x, 'genre_thriller_share')).toBeCloseTo(1 / total, 6);
    expect(feature(x, 'genre_drama_share')).toBe(0);
    expect(feature(x, 'genre_romance_share')).toBe(0);
    // War and Western are action too; Romance is its own family.
    const t = emptyFeatureState();
    updateFeatureState(t, ev('play', SAT_20H, { contentId: 'w', genres: ['War', 'Western', 'Romance'] }), 0);
    const y = featureVector(t, SAT_20H);
    expect(feature(y, 'genre_action_share')).toBe(0.5);
    expect(feature(y, 'genre_romance_share')).toBe(0.5);
  });
});
