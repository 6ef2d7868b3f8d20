/**
 * The classic-script snippet's loader (`/sdk/<version>/queue.min.js`), for pages without
 * a bundler. On import it creates the segmenter from the snippet's queued
 * `edgeseg('init', options)` (endpoint default: the origin this file came from), replays
 * the queued calls in order, and replaces `window.edgeseg` so later calls go straight
 * through. Its own entry: the core pays no byte for it.
 *
 * @example
 * <script>
 *   (function (w, src) {
 *     var q = [], stub = w.edgeseg = function () { q.push(arguments); };
 *     stub.q = q;
 *     import(src).catch(function (e) { q.forEach(function (c) { if (c[0] === 'init' && c[1] && c[1].onError) c[1].onError(e); }); });
 *   })(window, 'https://edge.example.com/sdk/0.2.0/queue.min.js');
 *   edgeseg('init', { appId: 'streambox' });
 *   edgeseg('track', { type: 'play', contentId: 'm1', genres: ['Drama'], durationSec: 5400, positionSec: 0, device: 'tv' });
 * </script>
 */
import { createSegmenter } from '../index.ts';
import { createDispatcher, replay, type EdgesegCommand } from './commands.ts';

type QueueWindow = Window & { edgeseg?: EdgesegCommand & { q?: ArrayLike<ArrayLike<unknown>> } };

// `${endpoint}/sdk/<version>/queue.min.js`: the endpoint is two levels up.
const endpoint = new URL('../../', import.meta.url).href.replace(/\/$/, '');
const w = window as QueueWindow;
const stub = w.edgeseg;
const dispatch = createDispatcher(createSegmenter, endpoint);
w.edgeseg = dispatch;
if (stub && stub.q) replay(stub.q, dispatch);
