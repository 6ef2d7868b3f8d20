import { describe, expect, it } from 'vitest';
import { parsePlaybackEvent } from './events.ts';

const ok = { type: 'play', contentId: 'm1', genres: ['Drama'], durationSec: 5400, positionSec: 0, device: 'tv' };

describe('parsePlaybackEvent', () => {
  it('accepts a well-formed event, with optional fields', () => {
    expect(parsePlaybackEvent(ok).ok).toBe(true);
    expect(parsePlaybackEvent({ ...ok, seriesId: 's1', episode: 3, at: Date.now() }).ok).toBe(true);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an unknown type', { ...ok, type: 'rewind' }],
    ['an empty content id', { ...ok, contentId: '' }],
    ['genres not an array', { ...ok, genres: 'Drama' }],
    ['a negative position', { ...ok, positionSec: -1 }],
    ['NaN duration', { ...ok, durationSec: Number.NaN }],
    ['an unknown device', { ...ok, device: 'fridge' }],
    ['an unknown field', { ...ok, email: 'a@b.c' }],
  ])('refuses %s with a message', (_, e) => {
    const r = parsePlaybackEvent(e);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/\w+: /);
  });
});
