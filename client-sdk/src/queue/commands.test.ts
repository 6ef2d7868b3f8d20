import type { PlaybackEvent } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import type { Segmenter, SegmenterOptions } from '../api.ts';
import type { EdgesegError } from '../errors.ts';
import { createDispatcher, replay } from './commands.ts';

const EVENT: PlaybackEvent = { type: 'play', contentId: 'm1', genres: ['Drama'], durationSec: 5400, positionSec: 0, device: 'tv' };

/** A segmenter that records what the dispatcher calls on it, in order. */
function recordingSegmenter(calls: string[]): Segmenter {
  const seg = {
    ready: Promise.resolve(),
    track: (e: PlaybackEvent) => void calls.push(`track ${e.contentId}`),
    consent: { set: async (c: object) => void calls.push(`consent ${JSON.stringify(c)}`) },
    flush: async () => void calls.push('flush'),
  };
  return seg as unknown as Segmenter;
}

function setup() {
  const calls: string[] = [];
  const created: SegmenterOptions[] = [];
  const errors: EdgesegError[] = [];
  let segmenter: Segmenter | null = null;
  const create = (options: SegmenterOptions): Segmenter => {
    created.push(options);
    calls.push('init');
    segmenter = recordingSegmenter(calls);
    return segmenter;
  };
  const onError = (e: EdgesegError): void => void errors.push(e);
  return { calls, created, errors, onError, create, segmenter: () => segmenter, dispatch: createDispatcher(create, 'https://edge.example.com') };
}

/** What the snippet's stub records: one `arguments` object per call, as the README's snippet does. */
function stubQueue(...calls: unknown[][]): ArrayLike<ArrayLike<unknown>> {
  const q: IArguments[] = [];
  const stub = function (..._args: unknown[]): void {
    q.push(arguments);
  };
  for (const c of calls) stub(...c);
  return q;
}

describe('the classic snippet call queue', () => {
  it('replays init first, then the other calls in the order they were made', async () => {
    const t = setup();
    replay(stubQueue(['track', { ...EVENT, contentId: 'a' }], ['consent', { measurement: true }], ['init', { appId: 'app', onError: t.onError }], ['track', { ...EVENT, contentId: 'b' }], ['flush']), t.dispatch);
    expect(t.calls).toEqual(['init', 'track a', 'consent {"measurement":true}', 'track b', 'flush']);
    expect(t.created).toHaveLength(1);
    expect(t.created[0]).toMatchObject({ appId: 'app', endpoint: 'https://edge.example.com' });
    expect(t.errors).toEqual([]);
  });

  it('keeps an endpoint given to init', () => {
    const t = setup();
    replay(stubQueue(['init', { endpoint: 'https://other.example' }]), t.dispatch);
    expect(t.created[0]?.endpoint).toBe('https://other.example');
  });

  it('goes straight through once replaced, and calls ready callbacks with the segmenter after ready', async () => {
    const t = setup();
    const got: unknown[] = [];
    replay(stubQueue(['ready', (s: Segmenter) => got.push(s)], ['init', {}]), t.dispatch);
    t.dispatch('track', { ...EVENT, contentId: 'later' });
    expect(t.calls).toEqual(['init', 'track later']);
    expect(got).toEqual([]); // after ready, never synchronously
    await t.segmenter()?.ready;
    await Promise.resolve();
    expect(got).toEqual([t.segmenter()]);
  });

  it('holds calls made before any init until init comes', () => {
    const t = setup();
    replay(stubQueue(['track', EVENT]), t.dispatch);
    expect(t.calls).toEqual([]);
    t.dispatch('init', {});
    expect(t.calls).toEqual(['init', 'track m1']);
  });

  it('reports an unknown command, a second init and a throwing ready callback to onError, never throwing', async () => {
    const t = setup();
    replay(
      stubQueue(['init', { onError: t.onError }], ['segmentt'], ['init', {}], ['ready', 'not a function'], [
        'ready',
        () => {
          throw new Error('app bug');
        },
      ]),
      t.dispatch,
    );
    await t.segmenter()?.ready;
    await Promise.resolve();
    expect(t.created).toHaveLength(1);
    expect(t.errors.map((e) => `${e.code} ${e.stage}`)).toEqual(['invalid-options init', 'invalid-options init', 'invalid-options init', 'listener-threw callback']);
    expect(t.errors[0]?.message).toMatch(/segmentt/);
  });
});
