import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomFraction, seededRandom, type PlaybackEvent } from '@edgeseg/shared';
import { parseCsv } from './csv.ts';
import { UsageError } from './errors.ts';
import { loadMovieLens } from './movielens.ts';
import { uniform } from './draw.ts';
import { drawProfile, replayUser } from './replay.ts';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeseg-ml-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n2,"American President, The (1995)",Comedy|Drama|Romance\n3,Toy Story 2 (1999),Adventure|Animation|Children|Comedy|Fantasy\n';

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and CRLF line ends', () => {
    expect(parseCsv('a,b\r\n1,"x, ""y"""\n')).toEqual([
      ['a', 'b'],
      ['1', 'x, "y"'],
    ]);
  });
});

describe('loadMovieLens', () => {
  it('reads users sorted by time, quoted titles and franchises', () => {
    const dir = folder({ 'movies.csv': MOVIES, 'ratings.csv': 'userId,movieId,rating,timestamp\n7,3,4.0,2000\n7,1,5.0,1000\n9,2,2.5,1500\n9,999,3,1600\n' });
    const data = loadMovieLens(dir);
    expect(data.users.map((u) => u.id)).toEqual([7, 9]);
    expect(data.users[0]?.ratings.map((r) => r.movieId)).toEqual([1, 3]);
    expect(data.users[1]?.ratings).toHaveLength(1); // movie 999 is not in movies.csv
    expect(data.movies.get(2)?.title).toBe('American President, The (1995)');
    expect(data.movies.get(1)?.seriesId).toBe('f:toy story');
    expect(data.movies.get(3)?.episode).toBe(2);
    expect(data.movies.get(2)?.seriesId).toBeNull();
  });

  it('refuses a missing folder, a missing file, a wrong header and a bad row with a UsageError naming them', () => {
    expect(() => loadMovieLens('/nonexistent/edgeseg')).toThrow(UsageError);
    expect(() => loadMovieLens(folder({ 'movies.csv': MOVIES }))).toThrow(/ratings\.csv: missing/);
    expect(() => loadMovieLens(folder({ 'movies.csv': MOVIES, 'ratings.csv': 'user,movie\n1,1\n' }))).toThrow(/header must start with userId,movieId,rating,timestamp/);
    expect(() => loadMovieLens(folder({ 'movies.csv': MOVIES, 'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,nine,100\n' }))).toThrow(/ratings\.csv:2:/);
  });
});

describe('replayUser', () => {
  it('turns ratings into play + complete / pause / skip, in time order, ending before now', () => {
    const data = loadMovieLens(
      folder({ 'movies.csv': MOVIES, 'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,5.0,1000000\n1,3,2.5,1000010\n1,2,1.0,1100000\n' }),
    );
    const now = 2_000_000_000_000;
    const random = seededRandom(3);
    const profile = drawProfile(random);
    const events: PlaybackEvent[] = [];
    replayUser(data.users[0] as (typeof data.users)[number], data.movies, now, false, profile, random, (e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['play', 'complete', 'play', 'pause', 'play', 'skip']);
    expect(events[1]?.positionSec).toBe(events[1]?.durationSec);
    const paused = (events[3]?.positionSec as number) / (events[3]?.durationSec as number);
    expect(paused).toBeGreaterThanOrEqual(0.3);
    expect(paused).toBeLessThanOrEqual(0.85);
    expect((events[5]?.positionSec as number) / (events[5]?.durationSec as number)).toBeLessThanOrEqual(0.1);
    // Bulk ratings 10 s apart: the end of the first comes before the next play.
    expect(events[1]?.at as number).toBeLessThanOrEqual(events[2]?.at as number);
    for (let i = 1; i < events.length; i++) expect(events[i]?.at as number).toBeGreaterThanOrEqual(events[i - 1]?.at as number);
    expect(events[0]?.seriesId).toBe('f:toy story');
    expect(events[0]?.genres).toContain('Animation');
    // Whole weeks of shift keep the weekday and time of day of the original viewing.
    expect(((events[0]?.at as number) - 1_000_000_000) % (7 * 86_400_000)).toBe(0);
    expect(events[events.length - 1]?.at as number).toBeLessThan(now);
  });
});

describe('uniform', () => {
  it('draws exactly what lo + (hi − lo) · randomFraction would from the same stream', () => {
    const ours = seededRandom(11);
    const shared = seededRandom(11);
    for (let i = 0; i < 1000; i++) expect(uniform(-60, 60, ours)).toBe(-60 + 120 * randomFraction(shared));
  });
});
