/**
 * The preference centre page (/preferences). A file, not an inline script, so the page's
 * Content-Security-Policy allows scripts from this origin only (worker/public/_headers).
 * The same segmenter settings as /demo (the helper's key pinned alike), so this page sees
 * the same on-device data and consent, and a change here reaches open /demo tabs at once
 * (the SDK's cross-tab channel).
 */
import { createSegmenter } from '/sdk/0.2.0/edgeseg.min.js';
import '/sdk/0.2.0/preferences.min.js';
import { helperPin, showPinProblem } from '/demo/helper-pin.js';

// The helper's key as /demo pins it (from the helper's own origin), so both pages run the SDK alike.
const pin = await helperPin(location.origin);
const seg = createSegmenter({ endpoint: location.origin, ...(pin.helper ? { aggregators: { helper: pin.helper } } : {}), onError: (e) => console.warn('[edgeseg]', e.message) });
window.edgeseg = seg;
const prefs = document.querySelector('edgeseg-preferences');
if (pin.problem) showPinProblem(pin.problem, (note) => prefs.before(note));
prefs.segmenter = seg;
await prefs.refresh();
document.body.dataset.ready = 'true';
