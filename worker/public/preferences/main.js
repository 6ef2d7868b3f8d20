/**
 * The preference centre page (/preferences). A file, not an inline script, so the page's
 * Content-Security-Policy allows scripts from this origin only (worker/public/_headers).
 * The same segmenter settings as /demo, so this page sees the same on-device data and
 * consent, and a change here reaches open /demo tabs at once (the SDK's cross-tab channel).
 */
import { createSegmenter } from '/sdk/0.2.0/edgeseg.min.js';
import '/sdk/0.2.0/preferences.min.js';

const seg = createSegmenter({ endpoint: location.origin, onError: (e) => console.warn('[edgeseg]', e.message) });
window.edgeseg = seg;
const prefs = document.querySelector('edgeseg-preferences');
prefs.segmenter = seg;
await prefs.refresh();
document.body.dataset.ready = 'true';
