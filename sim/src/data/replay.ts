/**
 * Turns one MovieLens user's ratings into one simulated device's playback events
 * (README: "How a rating becomes viewing"):
 *
 * - a rating is a viewing that starts at its timestamp: a `play` at position 0, then
 *   - rating ≥ 3.5: `complete` at the movie's end (watched whole);
 *   - rating 2 to 3: `pause` at 30–85% of the movie, never resumed (abandoned part-way);
 *   - rating < 2: `skip` at 2–10% of the movie;
 *   the end event comes at start + the part watched, or just before the next viewing
 *   starts when that is sooner (bulk ratings seconds apart stay in one session);
 * - genres are the movie's MovieLens genres; movies whose titles share a franchise
 *   ("Toy Story", "Toy Story 2") carry it as the series, so back-to-back franchise
 *   viewings count as a binge; running times are 80–150 min, fixed per movie id;
 * - per device, seeded: a US time zone, a main device type (tv 40%, desktop 25%,
 *   mobile 20%, tablet 15%; each viewing on it with probability 0.75, otherwise on any);
 * - the whole history is moved by whole weeks (weekday and time of day kept) so that
 *   its last viewing is 0–90 days (exponential, mean 10) before the simulation's `now`;
 * - a resampled device (beyond one per source user) also drops each rating with
 *   probability 0.15 (keeping at least one) and moves every event by the same −60…+60 min.
 */
import { DAY_MS, type DeviceType, type PlaybackEvent, type RandomSource } from '@edgeseg/shared';
import { pick, uniform } from './draw.ts';
import type { Movie, SourceUser } from './movielens.ts';

const WEEK_MS = 7 * DAY_MS;
/** Date#getTimezoneOffset() of US Eastern, Central, Mountain, Pacific (standard time), and how many viewers each holds. */
const TZ_OFFSETS = [300, 360, 420, 480] as const;
const TZ_WEIGHTS = [0.47, 0.29, 0.07, 0.17];
const DEVICES: readonly DeviceType[] = ['tv', 'desktop', 'mobile', 'tablet'];
const DEVICE_WEIGHTS = [0.4, 0.25, 0.2, 0.15];
export const DROP_PROBABILITY = 0.15;

/** What is fixed per device before its first event. */
export interface DeviceProfile {
  /** `Date#getTimezoneOffset()` of the device. */
  tzOffsetMin: number;
  main: DeviceType;
  /** Time from the last viewing to the simulation's `now`, ms. */
  idleMs: number;
}

/**
 * Draws a device's time zone, main device type and idle time.
 *
 * @example
 * const profile = drawProfile(seededRandom(1));
 */
export function drawProfile(random: RandomSource): DeviceProfile {
  const tzOffsetMin = TZ_OFFSETS[pick(TZ_WEIGHTS, random)] as number;
  const main = DEVICES[pick(DEVICE_WEIGHTS, random)] as DeviceType;
  const idleMs = Math.min(90, -10 * Math.log(1 - uniform(0, 1, random))) * DAY_MS;
  return { tzOffsetMin, main, idleMs };
}

/**
 * Replays `user` on one device, handing each playback event, in time order, to `emit`
 * (streamed, so 100,000 devices never hold their events at once).
 *
 * @example
 * const events: PlaybackEvent[] = [];
 * replayUser(data.users[0], data.movies, now, false, drawProfile(random), random, (e) => events.push(e));
 */
export function replayUser(user: SourceUser, movies: ReadonlyMap<number, Movie>, now: number, resampled: boolean, profile: DeviceProfile, random: RandomSource, emit: (e: PlaybackEvent) => void): void {
  const { main, idleMs: idle } = profile;
  let ratings = user.ratings;
  let offset = 0;
  if (resampled) {
    const kept = ratings.filter(() => uniform(0, 1, random) >= DROP_PROBABILITY);
    ratings = kept.length > 0 ? kept : ratings.slice(-1);
    offset = Math.round(uniform(-60, 60, random)) * 60_000;
  }
  const last = (ratings[ratings.length - 1] as { at: number }).at + offset;
  const shift = Math.floor((now - idle - last) / WEEK_MS) * WEEK_MS + offset;
  for (let i = 0; i < ratings.length; i++) {
    const r = ratings[i] as { movieId: number; rating: number; at: number };
    const movie = movies.get(r.movieId) as Movie;
    const start = r.at + shift;
    const next = i + 1 < ratings.length ? (ratings[i + 1] as { at: number }).at + shift : Infinity;
    const device = uniform(0, 1, random) < 0.75 ? main : (DEVICES[Math.floor(uniform(0, 4, random))] as DeviceType);
    const durationSec = movie.durationSec;
    let type: PlaybackEvent['type'];
    let fraction: number;
    if (r.rating >= 3.5) {
      type = 'complete';
      fraction = 1;
    } else if (r.rating >= 2) {
      type = 'pause';
      fraction = uniform(0.3, 0.85, random);
    } else {
      type = 'skip';
      fraction = uniform(0.02, 0.1, random);
    }
    const positionSec = Math.round(fraction * durationSec);
    const end = Math.min(start + positionSec * 1000, Math.max(start, next - 1000));
    const contentId = movie.contentId;
    if (movie.seriesId === null) {
      emit({ type: 'play', contentId, genres: movie.genres, durationSec, device, positionSec: 0, at: start });
      emit({ type, contentId, genres: movie.genres, durationSec, device, positionSec, at: end });
    } else {
      emit({ type: 'play', contentId, seriesId: movie.seriesId, episode: movie.episode, genres: movie.genres, durationSec, device, positionSec: 0, at: start });
      emit({ type, contentId, seriesId: movie.seriesId, episode: movie.episode, genres: movie.genres, durationSec, device, positionSec, at: end });
    }
  }
}
