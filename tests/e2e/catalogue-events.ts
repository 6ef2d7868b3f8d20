/**
 * Playback events an app would track, from the demo catalogue: what the pages and apps
 * of the outside-view tests (another origin, the packed npm package) feed the SDK.
 */
import type { PlaybackEvent } from '@edgeseg/client-sdk';
import { CATALOGUE } from './demo-page.ts';

/**
 * The first `n` titles of the demo catalogue, each finished on a TV: a play at 0 and a
 * complete at its full length.
 *
 * @example
 * for (const event of finishedTitleEvents(2)) seg.track(event); // 4 events
 */
export function finishedTitleEvents(n: number): PlaybackEvent[] {
  return CATALOGUE.titles.slice(0, n).flatMap((t) => {
    const durationSec = t.minutes * 60;
    return (['play', 'complete'] as const).map((type) => ({ type, contentId: t.id, genres: t.genres, durationSec, positionSec: type === 'play' ? 0 : durationSec, device: 'tv' as const }));
  });
}
