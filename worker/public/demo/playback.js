// @ts-check
/**
 * What the demo's play / finish / skip controls send to `seg.track()`: real
 * PlaybackEvents (shared/src/events.ts), with the title that is playing remembered so
 * that finishing or skipping it does not start it a second time.
 */

/** @typedef {{ id: string, title: string, genres: string[], minutes: number }} Title */
/** @typedef {'tv' | 'mobile' | 'desktop' | 'tablet'} Device */
/** @typedef {{ type: 'play' | 'complete' | 'skip', contentId: string, genres: string[], durationSec: number, positionSec: number, device: Device }} PlaybackEvent */

/** A skip happens this far into a title. */
const SKIP_AT = 0.1;

/**
 * One event for `title` at `fraction` of its runtime.
 *
 * @example
 * playbackEvent('play', title, 0, 'tv') // { type: 'play', contentId: 'sb-001', positionSec: 0, … }
 * @param {PlaybackEvent['type']} type
 * @param {Title} title
 * @param {number} fraction
 * @param {Device} device
 * @returns {PlaybackEvent}
 */
export function playbackEvent(type, title, fraction, device) {
  const durationSec = title.minutes * 60;
  return { type, contentId: title.id, genres: [...title.genres], durationSec, positionSec: Math.round(durationSec * fraction), device };
}

/**
 * The player: remembers the title playing and turns a control into its events.
 *
 * @example
 * const player = createPlayer();
 * player.events('finish', title, 'tv') // [play, complete] when the title was not playing
 */
export function createPlayer() {
  /** @type {Title | null} */
  let playing = null;
  return {
    /** @returns {Title | null} */
    nowPlaying: () => playing,
    /**
     * @param {'play' | 'finish' | 'skip'} control
     * @param {Title} title
     * @param {Device} device
     * @returns {PlaybackEvent[]}
     */
    events(control, title, device) {
      const started = playing?.id === title.id ? [] : [playbackEvent('play', title, 0, device)];
      if (control === 'play') {
        playing = title;
        return started;
      }
      playing = null;
      return control === 'finish' ? [...started, playbackEvent('complete', title, 1, device)] : [...started, playbackEvent('skip', title, SKIP_AT, device)];
    },
  };
}
