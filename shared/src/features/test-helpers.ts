/**
 * Test helpers for the feature tests (not exported from the package): one playback
 * event with defaults, and one named feature read from a vector.
 */
import type { PlaybackEvent } from '../events.ts';
import { FEATURE_NAMES_V1 } from './schema.ts';

/**
 * A 60-minute drama on TV, of `type` at `at`, with `extra` fields on top.
 *
 * @example
 * ev('complete', T0, { positionSec: 3600 })
 */
export function ev(type: PlaybackEvent['type'], at: number, extra: Partial<PlaybackEvent> = {}): PlaybackEvent {
  return { type, contentId: 'm1', genres: ['Drama'], durationSec: 3600, positionSec: 0, device: 'tv', at, ...extra };
}

/**
 * The value of feature `name` in `x`; throws on a missing vector or an unknown name.
 *
 * @example
 * feature(featureVector(state, now), 'binge_ratio')
 */
export function feature(x: Float32Array | null, name: string): number {
  if (!x) throw new Error('no vector');
  const i = FEATURE_NAMES_V1.indexOf(name);
  if (i < 0) throw new Error(`no feature ${name}`);
  return x[i] as number;
}
