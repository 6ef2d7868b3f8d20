/**
 * The call queue of the classic-script snippet: pages without a bundler define
 * `window.edgeseg` as a stub that records its calls (`edgeseg('init', options)`,
 * `edgeseg('track', event)`, …) and load `queue.min.js`, which creates the segmenter,
 * replays the recorded calls and replaces the stub so later calls go straight through.
 * This module is the replay logic, with `createSegmenter` injected (unit-tested in Node).
 */
import type { PlaybackEvent } from '@edgeseg/shared';
import type { Segmenter, SegmenterOptions } from '../api.ts';
import type { ConsentState } from '../consent.ts';
import { EdgesegError } from '../errors.ts';

/** One recorded call: the command name, then its arguments. */
export type QueuedCall =
  | readonly ['init', Partial<SegmenterOptions>?]
  | readonly ['track', PlaybackEvent]
  | readonly ['consent', Partial<ConsentState>]
  | readonly ['ready', (segmenter: Segmenter) => void]
  | readonly ['flush']
  | readonly [string, ...unknown[]];

/** The function that replaces the stub: one call of the snippet's API. */
export type EdgesegCommand = (command: string, ...args: unknown[]) => void;

/**
 * A dispatcher for snippet calls. `init` runs first, wherever it was queued (the other
 * calls need the segmenter); the other calls keep their order and wait for `init`.
 * `defaultEndpoint` fills in a missing `endpoint` (the origin `queue.min.js` came from).
 * Nothing throws: an unknown command, a second `init` or a throwing `ready` callback goes
 * to `onError` (the one given to `init`) as an {@link EdgesegError}.
 *
 * @example
 * const dispatch = createDispatcher(createSegmenter, 'https://edge.example.com');
 * replay(window.edgeseg.q, dispatch);
 * window.edgeseg = dispatch;
 */
export function createDispatcher(create: (options: SegmenterOptions) => Segmenter, defaultEndpoint: string): EdgesegCommand {
  let segmenter: Segmenter | null = null;
  let onError: SegmenterOptions['onError'] = undefined;
  const waiting: unknown[][] = [];
  const report = (error: EdgesegError): void => {
    try {
      if (onError) onError(error);
      else console.error(error);
    } catch {
      // An app's onError that throws must not stop the replay.
    }
  };
  const run = (seg: Segmenter, command: string, args: unknown[]): void => {
    switch (command) {
      case 'track':
        seg.track(args[0] as PlaybackEvent);
        return;
      case 'consent':
        void seg.consent.set((args[0] ?? {}) as Partial<ConsentState>);
        return;
      case 'flush':
        void seg.flush();
        return;
      case 'ready': {
        const cb = args[0];
        if (typeof cb !== 'function') return report(new EdgesegError('invalid-options', 'init', "edgeseg('ready', callback): the callback is not a function"));
        void seg.ready.then(() => {
          try {
            (cb as (s: Segmenter) => void)(seg);
          } catch (err) {
            report(new EdgesegError('listener-threw', 'callback', `edgeseg('ready') callback threw: ${err instanceof Error ? err.message : String(err)}`, err));
          }
        });
        return;
      }
      default:
        report(new EdgesegError('invalid-options', 'init', `edgeseg('${command}'): unknown command (init, track, consent, ready, flush)`));
    }
  };
  return (command, ...args) => {
    if (command === 'init') {
      if (segmenter) return report(new EdgesegError('invalid-options', 'init', "edgeseg('init') was called twice; the first segmenter stays"));
      const options = { ...((args[0] ?? {}) as Partial<SegmenterOptions>) };
      if (options.endpoint === undefined) options.endpoint = defaultEndpoint;
      onError = options.onError;
      segmenter = create(options as SegmenterOptions);
      for (const call of waiting.splice(0)) run(segmenter, call[0] as string, call.slice(1));
      return;
    }
    if (segmenter) run(segmenter, command, args);
    else waiting.push([command, ...args]);
  };
}

/**
 * Replays the stub's recorded calls through `dispatch`: the first `init` first, then the
 * others in the order they were made.
 *
 * @example
 * replay([['track', event], ['init', { endpoint }]], dispatch); // init, then track
 */
export function replay(queue: ArrayLike<ArrayLike<unknown>>, dispatch: EdgesegCommand): void {
  const calls = Array.prototype.map.call(queue, (c: ArrayLike<unknown>) => Array.prototype.slice.call(c) as unknown[]) as unknown[][];
  const init = calls.findIndex((c) => c[0] === 'init');
  if (init >= 0) dispatch('init', ...calls.splice(init, 1)[0]!.slice(1));
  for (const c of calls) dispatch(String(c[0]), ...c.slice(1));
}
