/**
 * Features that depend on how events hang together: abandon (a title left part-way),
 * binge (episodes back to back in one sitting), active days, and events that arrive late.
 */
import { describe, expect, it } from 'vitest';
import type { PlaybackEvent } from '../events.ts';
import { DAY_MS, emptyFeatureState, updateFeatureState, type FeatureState } from './state.ts';
import { ev, feature } from './test-helpers.ts';
import { featureVector } from './vector.ts';

const T0 = Date.UTC(2026, 10, 21, 20, 0); // Saturday 21 Nov 2026, 20:00 UTC
const H = 28; // half-life, days
const MIN = 60_000;
const M = 1 / (24 * 60); // one minute, in days
const f = (days: number) => 2 ** (-days / H);


function fold(events: PlaybackEvent[], tz = 0): FeatureState {
  const s = emptyFeatureState();
  for (const e of events) updateFeatureState(s, e, tz);
  return s;
}

describe('completion, skip and abandon', () => {
  it('counts a title left below 90% for another title as abandoned, at the moment it is left', () => {
    const s = fold([
      ev('play', T0, { contentId: 'a' }),
      ev('pause', T0 + 30 * MIN, { contentId: 'a', positionSec: 1800 }), // 50%
      ev('play', T0 + 40 * MIN, { contentId: 'b' }), // leaves a: abandoned
      ev('pause', T0 + 50 * MIN, { contentId: 'b', positionSec: 600 }),
      ev('skip', T0 + 50 * MIN, { contentId: 'b', positionSec: 600 }), // skipped, not abandoned
      ev('play', T0 + 55 * MIN, { contentId: 'c' }),
      ev('complete', T0 + 60 * MIN, { contentId: 'c', positionSec: 3600 }), // c jumps to the end: still a complete
    ]);
    const x = featureVector(s, T0 + 60 * MIN);
    // Everything dated relative to T0 + 60 min, in days.
    const starts = f(60 * M) + f(20 * M) + f(5 * M);
    expect(feature(x, 'abandon_rate')).toBeCloseTo(f(20 * M) / starts, 6);
    expect(feature(x, 'skip_rate')).toBeCloseTo(f(10 * M) / starts, 6);
    expect(feature(x, 'completion_rate')).toBeCloseTo(1 / starts, 6);
    // a: 1800 of 3600 s; b: 600 of 3600 s; c: the 5 minutes between play and complete
    // are 300 s of wall clock but 3600 s of position, capped at the duration.
    const fractions = f(30 * M) * (1800 / 3600) + f(10 * M) * (600 / 3600) + 1 * (3600 / 3600);
    expect(feature(x, 'mean_watch_fraction')).toBeCloseTo(fractions / starts, 6);
  });

  it.each<[string, number, number]>([
    ['3239 s of 3600 (just under 90%)', 3239, 1],
    ['3240 s of 3600 (exactly 90%)', 3240, 0],
    ['3500 s of 3600 (the credits)', 3500, 0],
  ])('leaving a title at %s: abandoned %i', (_, positionSec, abandoned) => {
    const s = fold([
      ev('play', T0, { contentId: 'a' }),
      ev('pause', T0, { contentId: 'a', positionSec }),
      ev('play', T0, { contentId: 'b' }),
    ]);
    // Two starts at T0, weight 1 each.
    expect(feature(featureVector(s, T0), 'abandon_rate')).toBe(abandoned / 2);
  });

  it('judges by the furthest position reported, seeks included', () => {
    const s = fold([
      ev('play', T0, { contentId: 'a' }),
      ev('seek', T0, { contentId: 'a', positionSec: 3500 }),
      ev('seek', T0, { contentId: 'a', positionSec: 60 }), // back to the start after a look at the end
      ev('play', T0, { contentId: 'b' }),
    ]);
    expect(feature(featureVector(s, T0), 'abandon_rate')).toBe(0);
  });

  it('never abandons a title without a duration, and leaves it out of the watched fraction', () => {
    const s = fold([
      ev('play', T0, { contentId: 'live', durationSec: 0 }),
      ev('pause', T0, { contentId: 'live', durationSec: 0, positionSec: 0 }),
      ev('play', T0, { contentId: 'b' }),
      ev('pause', T0, { contentId: 'b', positionSec: 0 }),
      ev('seek', T0, { contentId: 'b', positionSec: 0 }),
      ev('complete', T0, { contentId: 'b', positionSec: 900 }),
    ]);
    const x = featureVector(s, T0);
    expect(feature(x, 'abandon_rate')).toBe(0);
    expect(feature(x, 'mean_watch_fraction')).toBeCloseTo(900 / 3600 / 1, 6); // b only
    expect(feature(x, 'completion_rate')).toBe(1 / 2);
  });

  it('counts a title left open when the session ends, from the end of the session, unless it is resumed', () => {
    const events = [
      ev('play', T0, { contentId: 'a' }),
      ev('heartbeat', T0 + 30 * MIN, { contentId: 'a', positionSec: 1800 }), // keeps the one session going
      ev('complete', T0 + 60 * MIN, { contentId: 'a', positionSec: 3600 }),
      ev('play', T0 + 60 * MIN, { contentId: 'b' }),
      ev('pause', T0 + 70 * MIN, { contentId: 'b', positionSec: 600 }),
    ];
    const s = fold(events);
    // Exactly 30 minutes after the last event the session has not ended yet.
    expect(feature(featureVector(s, T0 + 100 * MIN), 'abandon_rate')).toBe(0);
    // At T0 + 3 h it has, since T0 + 100 min: b counts from then, provisionally.
    const x = featureVector(s, T0 + 180 * MIN);
    expect(feature(x, 'abandon_rate')).toBeCloseTo(f(80 * M) / (f(180 * M) + f(120 * M)), 6);
    expect(s.abandons).toBe(0); // featureVector does not write

    // The next day another title: b is abandoned for good, at the same weight.
    const next = T0 + DAY_MS;
    const moved = fold([...events, ev('play', next, { contentId: 'c' })]);
    const starts = f(1) + f(1 - 60 * M) + 1;
    expect(feature(featureVector(moved, next), 'abandon_rate')).toBeCloseTo(f(1 - 100 * M) / starts, 6);
    expect(feature(featureVector(moved, next), 'completion_rate')).toBeCloseTo(f(1 - 60 * M) / starts, 6);

    // Or the next day b again: a resume, so no abandon and no new start.
    const resumed = fold([...events, ev('play', next, { contentId: 'b', positionSec: 600 })]);
    expect(feature(featureVector(resumed, next), 'abandon_rate')).toBe(0);
    expect(resumed.starts).toBeCloseTo(f(1) + f(1 - 60 * M), 9);
    expect(resumed.sessions).toBeCloseTo(f(1) + 1, 9);
  });
});

describe('binge ratio and series share', () => {
  it('counts sessions with three episodes of one series back to back, once each', () => {
    const D1 = T0 + DAY_MS;
    const D2 = T0 + 2 * DAY_MS;
    const ep = (at: number, seriesId: string, contentId: string) => ev('play', at, { seriesId, contentId });
    const s = fold([
      // Sitting A: four episodes of s in a row. A binge, counted once, at the third.
      ep(T0, 's', 's-e1'),
      ep(T0 + 20 * MIN, 's', 's-e2'),
      ep(T0 + 40 * MIN, 's', 's-e3'),
      ep(T0 + 60 * MIN, 's', 's-e4'),
      // Sitting B: three episodes of s, but a film breaks the run. Not a binge.
      ep(D1, 's', 's-e5'),
      ev('play', D1 + 20 * MIN, { contentId: 'film' }),
      ep(D1 + 40 * MIN, 's', 's-e6'),
      ep(D1 + 60 * MIN, 's', 's-e7'),
      // Sitting C: p1, p1 started again (a restart is not another episode), p2, p3. A binge at p3.
      ep(D2, 'p', 'p-e1'),
      ev('complete', D2 + 1 * MIN, { seriesId: 'p', contentId: 'p-e1', positionSec: 3600 }),
      ep(D2 + 2 * MIN, 'p', 'p-e1'),
      ep(D2 + 20 * MIN, 'p', 'p-e2'),
      ep(D2 + 40 * MIN, 'p', 'p-e3'),
    ]);
    const now = D2 + 40 * MIN;
    const x = featureVector(s, now);
    // In days before `now`: sittings start at 2 + 40 min, 1 + 40 min and 40 min ago;
    // the binges were counted 2 days ago (A's third episode) and now (C's third).
    const sessions = f(2 + 40 * M) + f(1 + 40 * M) + f(40 * M);
    expect(feature(x, 'binge_ratio')).toBeCloseTo((f(2) + 1) / sessions, 6);
    // 12 starts, of which only the film has no series.
    const startAges = [2 + 40 * M, 2 + 20 * M, 2, 2 - 20 * M, 1 + 40 * M, 1 + 20 * M, 1, 1 - 20 * M, 40 * M, 38 * M, 20 * M, 0];
    const starts = startAges.reduce((a, age) => a + f(age), 0);
    expect(s.starts).toBeCloseTo(starts, 9);
    expect(feature(x, 'series_share')).toBeCloseTo((starts - f(1 + 20 * M)) / starts, 6);
  });

  it('counts a sitting with two binged series once, and a run does not carry over a session gap', () => {
    const ep = (at: number, seriesId: string, n: number) => ev('play', at, { seriesId, contentId: `${seriesId}-e${n}` });
    const s = fold([
      ep(T0, 'a', 1),
      ep(T0, 'a', 2),
      ep(T0, 'a', 3), // binge
      ep(T0, 'b', 1),
      ep(T0, 'b', 2),
      ep(T0, 'b', 3), // the same sitting: still one
      ep(T0 + 31 * MIN, 'b', 4), // a new sitting, run of 1
      ep(T0 + 31 * MIN, 'b', 5), // run of 2: not a binge
    ]);
    const x = featureVector(s, T0 + 31 * MIN);
    expect(feature(x, 'binge_ratio')).toBeCloseTo(f(31 * M) / (f(31 * M) + 1), 6);
    expect(feature(x, 'series_share')).toBe(1);
  });
});

describe('active days', () => {
  it('counts each local day once, including a late event on a day not yet counted', () => {
    const day = (n: number, hour = 20) => Date.UTC(2026, 10, 21 + n, hour);
    const s = fold([
      ev('play', day(0)),
      ev('play', day(2), { contentId: 'm2' }),
      ev('pause', day(2, 21), { contentId: 'm2', positionSec: 600 }), // day 2 again
      ev('play', day(4), { contentId: 'm3' }),
      ev('play', day(1), { contentId: 'm4' }), // late, day 1: not counted yet
      ev('play', day(2, 9), { contentId: 'm5' }), // late, day 2: already counted
    ]);
    // Days 0, 1, 2 and 4 of days 0–4, each weighted at its midnight.
    const x = featureVector(s, day(4));
    expect(feature(x, 'active_days_share')).toBeCloseTo((f(4) + f(3) + f(2) + 1) / (f(4) + f(3) + f(2) + f(1) + 1), 6);
    expect(s.firstDay).toBe(Math.floor(day(0) / DAY_MS));
    expect(s.lastDay).toBe(Math.floor(day(4) / DAY_MS));
    expect(s.dayMask).toBe(0b11101); // bit i is day 4 − i: days 4, (not 3), 2, 1, 0
  });

  it('leaves out a late day beyond the 32 days it can check, and counts from the first day', () => {
    const day = (n: number) => Date.UTC(2026, 10, 1 + n, 20);
    const s = fold([ev('play', day(0)), ev('play', day(40), { contentId: 'm2' }), ev('play', day(5), { contentId: 'm3' })]);
    let days = 0;
    for (let k = 0; k <= 40; k++) days += f(k);
    expect(feature(featureVector(s, day(40)), 'active_days_share')).toBeCloseTo((f(40) + 1) / days, 6);
  });

  it('is 1 for a viewer who watched every day, whatever the tenure', () => {
    const s = emptyFeatureState();
    for (let n = 0; n < 60; n++) updateFeatureState(s, ev('play', T0 + n * DAY_MS, { contentId: `m${n}` }), 0);
    expect(feature(featureVector(s, T0 + 59 * DAY_MS), 'active_days_share')).toBeCloseTo(1, 6);
    // Ten idle days on: (Σ_{k=10}^{69} f(k)) / (Σ_{k=0}^{69} f(k)).
    let watched = 0;
    let all = 0;
    for (let k = 0; k <= 69; k++) {
      all += f(k);
      if (k >= 10) watched += f(k);
    }
    expect(feature(featureVector(s, T0 + 69 * DAY_MS), 'active_days_share')).toBeCloseTo(watched / all, 6);
  });
});

describe('late events', () => {
  it('adds to the sums by age without taking over the title now playing', () => {
    const s = fold([
      ev('play', T0, { contentId: 'now' }),
      ev('play', T0 - 2 * DAY_MS, { contentId: 'old' }), // an offline play synced late
      ev('pause', T0 - 2 * DAY_MS + 10 * MIN, { contentId: 'old', positionSec: 600 }),
      ev('pause', T0 + 10 * MIN, { contentId: 'now', positionSec: 600 }),
    ]);
    expect(s.playing?.contentId).toBe('now');
    // Only the live title's 600 s count: the late title was never open.
    expect(s.watchSec).toBe(600);
    // Two starts: the live one 10 minutes old, the late one 2 days older.
    expect(s.starts).toBeCloseTo(f(10 * M) + f(2 + 10 * M), 9);
    const x = featureVector(s, T0 + 10 * MIN);
    expect(feature(x, 'abandon_rate')).toBe(0);
    expect(feature(x, 'tenure_days')).toBeCloseTo(Math.log1p(2 + 10 * M), 5);
  });
});
