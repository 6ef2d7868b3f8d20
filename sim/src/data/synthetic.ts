/**
 * Synthetic devices with known segments: k archetypes of viewing behaviour, each device
 * drawn from one and replayed as playback events over the eight weeks before `now`, so
 * its features come from the same SDK code as real data. The archetype is the ground
 * truth the clusterings are scored against (ARI).
 *
 * Archetype a (of k), chosen to differ on several feature families at once:
 * - main device DEVICES[a mod 4] (90% of its viewing), main daypart (a + ⌊a/4⌋) mod 4
 *   (80% of starts), two favourite genre families (80% of titles);
 * - a even: series viewer (episodes of one series back to back, 3–5 a sitting: binges);
 *   a odd: movie viewer (1–2 titles a sitting);
 * - completion: alternating pairs of archetypes finish 90% or 45% of titles
 *   (the rest abandoned part-way or skipped);
 * - sittings per week: 1.5 + (a mod 3) · 1.5; weekend share 0.6 for every third archetype.
 */
import { DAY_MS, DEVICE_TYPES, GENRE_FAMILIES, type DeviceType, type GenreFamily, type PlaybackEvent, type RandomSource } from '@edgeseg/shared';
import { pick, poisson, uniform } from './draw.ts';

/** A source genre name per family, as a catalogue would label it. */
const GENRE_NAME: Readonly<Record<GenreFamily, string>> = {
  drama: 'Drama',
  comedy: 'Comedy',
  action: 'Action',
  thriller: 'Thriller',
  horror: 'Horror',
  scifi_fantasy: 'Sci-Fi',
  romance: 'Romance',
  documentary: 'Documentary',
  family: 'Animation',
};
/** Local start hour ranges of the four dayparts (morning, daytime, evening, late night). */
const DAYPART_HOURS: readonly (readonly [number, number])[] = [
  [6, 11],
  [12, 17],
  [18, 22],
  [23, 27],
];
const WEEKS = 8;

interface Archetype {
  device: DeviceType;
  daypart: number;
  genres: readonly [GenreFamily, GenreFamily];
  series: boolean;
  completion: number;
  sittingsPerWeek: number;
  weekendBias: boolean;
}

/**
 * The archetype of segment `a` of `k` (deterministic).
 *
 * @example
 * archetype(0, 8).device // 'tv'
 */
function archetype(a: number): Archetype {
  const g = GENRE_FAMILIES.length;
  return {
    device: DEVICE_TYPES[a % 4] as DeviceType,
    daypart: (a + Math.floor(a / 4)) % 4,
    genres: [GENRE_FAMILIES[(2 * a) % g] as GenreFamily, GENRE_FAMILIES[(2 * a + 1) % g] as GenreFamily],
    series: a % 2 === 0,
    completion: Math.floor(a / 2) % 2 === 0 ? 0.9 : 0.45,
    sittingsPerWeek: 1.5 + (a % 3) * 1.5,
    weekendBias: a % 3 === 0,
  };
}

/**
 * Replays one synthetic device of segment `segment` (of k), handing its events in time
 * order to `emit`. Devices of a segment differ by their seeded draws.
 *
 * @example
 * syntheticDevice(2, now, seededRandom(5), (e) => fold(e));
 */
export function syntheticDevice(segment: number, now: number, random: RandomSource, emit: (e: PlaybackEvent) => void): void {
  const a = archetype(segment);
  const start = now - WEEKS * 7 * DAY_MS;
  // Whole-day slots: sittings per day ~ Poisson, weekends weighted for a weekend viewer.
  let titleCounter = 0;
  for (let day = 0; day < WEEKS * 7; day++) {
    const midnight = start + day * DAY_MS;
    const weekday = new Date(midnight).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const rate = (a.sittingsPerWeek / 7) * (a.weekendBias ? (weekend ? 2.1 : 0.56) : 1);
    const sittings = poisson(rate, random);
    for (let s = 0; s < sittings; s++) {
      const part = uniform(0, 1, random) < 0.8 ? a.daypart : Math.floor(uniform(0, 4, random));
      const [lo, hi] = DAYPART_HOURS[part] as readonly [number, number];
      let at = midnight + uniform(lo, hi + 1, random) * 3_600_000;
      const device = uniform(0, 1, random) < 0.9 ? a.device : (DEVICE_TYPES[Math.floor(uniform(0, 4, random))] as DeviceType);
      const family = uniform(0, 1, random) < 0.8 ? a.genres[pick([1, 1], random)] : GENRE_FAMILIES[Math.floor(uniform(0, GENRE_FAMILIES.length, random))];
      const genres = [GENRE_NAME[family as GenreFamily]];
      const titles = a.series ? 3 + Math.floor(uniform(0, 3, random)) : 1 + Math.floor(uniform(0, 2, random));
      const seriesId = a.series ? `s${segment}-${Math.floor(uniform(0, 50, random))}` : undefined;
      for (let t = 0; t < titles; t++) {
        const durationSec = a.series ? 45 * 60 : Math.round(uniform(85, 140, random)) * 60;
        const contentId = seriesId ? `${seriesId}e${t + 1}` : `m${segment}-${titleCounter++}`;
        const finished = uniform(0, 1, random) < a.completion;
        const fraction = finished ? 1 : uniform(0.05, 0.6, random);
        const positionSec = Math.round(fraction * durationSec);
        const base = seriesId ? { contentId, seriesId, episode: t + 1, genres, durationSec, device } : { contentId, genres, durationSec, device };
        emit({ type: 'play', ...base, positionSec: 0, at });
        at += positionSec * 1000;
        emit({ type: finished ? 'complete' : fraction < 0.15 ? 'skip' : 'pause', ...base, positionSec, at });
        at += 2 * 60_000;
      }
    }
  }
}
