/**
 * Reads a MovieLens-format folder: `ratings.csv` (userId,movieId,rating,timestamp),
 * `movies.csv` (movieId,title,genres with | between genres); `tags.csv` is optional and
 * not used. Anything malformed is a UsageError naming the file and line.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from './csv.ts';
import { UsageError } from './errors.ts';

/**
 * The MovieLens ml-latest-small ratings and movies shipped in the repository
 * (sim/data/movielens-latest-small, with the data set's README and license): the
 * simulator's default `--data-dir`, so a fresh clone runs with nothing beside it.
 *
 * @example
 * loadMovieLens(MOVIELENS_IN_REPO_DIR).users.length // 610
 */
export const MOVIELENS_IN_REPO_DIR = fileURLToPath(new URL('../../data/movielens-latest-small', import.meta.url));

export interface Movie {
  title: string;
  genres: string[];
  /** Franchise key when at least two movies share it (used as the series for binge features). */
  franchise: string | null;
  /** `f:<franchise>`, the event's seriesId, or null. */
  seriesId: string | null;
  /** Order within the franchise (by release year), from 1. */
  episode: number;
  /** Seeded-by-id running time in seconds (MovieLens has none). */
  durationSec: number;
  /** `m<movieId>`, the events' contentId (made once: every device replaying the film reuses it). */
  contentId: string;
}

export interface Rating {
  movieId: number;
  rating: number;
  /** Epoch ms. */
  at: number;
}

export interface SourceUser {
  id: number;
  /** Sorted by time. */
  ratings: Rating[];
}

export interface MovieLensData {
  movies: Map<number, Movie>;
  users: SourceUser[];
}

function readTable(dir: string, name: string, header: readonly string[]): string[][] {
  const file = join(dir, name);
  if (!existsSync(file)) throw new UsageError(`${file}: missing (a MovieLens folder needs ${name})`);
  const rows = parseCsv(readFileSync(file, 'utf8')).filter((r) => !(r.length === 1 && r[0] === ''));
  const got = rows[0]?.map((h) => h.trim().replace(/^\uFEFF/, ''));
  if (!got || header.some((h, i) => got[i] !== h)) throw new UsageError(`${file}: header must start with ${header.join(',')}, got ${got?.join(',') ?? 'nothing'}`);
  rows.shift();
  return rows;
}

/** A franchise key from a title: year, article and subtitle, trailing sequel numbers dropped. */
function franchiseKey(title: string): string {
  let t = title.replace(/\s*\(\d{4}\)\s*$/, '').toLowerCase();
  t = t.replace(/,\s*(the|a|an)$/, '');
  t = t.split(':')[0] as string;
  t = t.replace(/\s+(part\s+)?(\d+|ii|iii|iv|v|vi|vii|viii|ix)$/, '');
  return t.replace(/[^a-z0-9]+/g, ' ').trim();
}

function yearOf(title: string): number {
  const m = /\((\d{4})\)\s*$/.exec(title);
  return m ? Number(m[1]) : 0;
}

/** A running time of 80–150 minutes fixed by the movie id (a hash, so the same on every run). */
function durationFor(movieId: number): number {
  const h = Math.imul(movieId ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  return (80 + (h % 71)) * 60;
}

/**
 * Loads and checks a MovieLens folder.
 *
 * @example
 * const data = loadMovieLens('sim/data/movielens-latest-small');
 * data.users.length // 610
 */
export function loadMovieLens(dir: string): MovieLensData {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--data-dir ${dir}: not a folder`);
  const movies = new Map<number, Movie>();
  const byKey = new Map<string, number[]>();
  const movieRows = readTable(dir, 'movies.csv', ['movieId', 'title', 'genres']);
  movieRows.forEach((r, i) => {
    const id = Number(r[0]);
    if (r.length < 3 || !Number.isInteger(id) || id < 0) throw new UsageError(`${join(dir, 'movies.csv')}:${i + 2}: expected movieId,title,genres`);
    const title = r[1] as string;
    const genres = (r[2] as string).split('|').filter((g) => g !== '' && g !== '(no genres listed)');
    movies.set(id, { title, genres, franchise: null, seriesId: null, episode: 0, durationSec: durationFor(id), contentId: `m${id}` });
    const key = franchiseKey(title);
    if (key.length >= 3) byKey.set(key, [...(byKey.get(key) ?? []), id]);
  });
  for (const [key, ids] of byKey) {
    if (ids.length < 2) continue;
    ids.sort((a, b) => yearOf(movies.get(a)?.title ?? '') - yearOf(movies.get(b)?.title ?? '') || a - b);
    ids.forEach((id, e) => {
      const m = movies.get(id) as Movie;
      m.franchise = key;
      m.seriesId = `f:${key}`;
      m.episode = e + 1;
    });
  }
  const byUser = new Map<number, Rating[]>();
  const ratingRows = readTable(dir, 'ratings.csv', ['userId', 'movieId', 'rating', 'timestamp']);
  ratingRows.forEach((r, i) => {
    const user = Number(r[0]);
    const movieId = Number(r[1]);
    const rating = Number(r[2]);
    const ts = Number(r[3]);
    if (r.length < 4 || !Number.isInteger(user) || !Number.isInteger(movieId) || !(rating >= 0 && rating <= 5) || !Number.isFinite(ts) || ts < 0) {
      throw new UsageError(`${join(dir, 'ratings.csv')}:${i + 2}: expected userId,movieId,rating (0–5),timestamp (epoch seconds)`);
    }
    if (!movies.has(movieId)) return; // a rating of a movie not in movies.csv carries no genres: skipped
    let list = byUser.get(user);
    if (!list) byUser.set(user, (list = []));
    list.push({ movieId, rating, at: ts * 1000 });
  });
  const users = [...byUser].map(([id, ratings]) => ({ id, ratings: ratings.sort((a, b) => a.at - b.at) })).sort((a, b) => a.id - b.id);
  if (users.length === 0) throw new UsageError(`${join(dir, 'ratings.csv')}: no ratings of known movies`);
  return { movies, users };
}
