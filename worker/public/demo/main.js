// @ts-check
/**
 * StreamBox, the demo streaming app: a MovieLens catalogue with the edgeseg SDK inside.
 * Every control becomes real PlaybackEvents for `seg.track()`; the segment, its reasons
 * and the campaign slot are all computed on this device.
 */
import { createSegmenter } from '/sdk/0.2.0/edgeseg.min.js';
import { manifestOf } from '/dashboard/model.js';
import { enableArrowKeys, renderCatalogue } from './catalogue.js';
import { helperPin, showPinProblem } from './helper-pin.js';
import { createPlayer } from './playback.js';
import { showCampaign, showSegment } from './you.js';

const DEVICES = ['tv', 'mobile', 'desktop', 'tablet'];
const DEVICE_WORDS = { tv: 'TV', mobile: 'phone', desktop: 'computer', tablet: 'tablet' };
const DEVICE_KEY = 'streambox-device';

/** @returns {'tv' | 'mobile' | 'desktop' | 'tablet'} */
function detectedDevice() {
  const ua = navigator.userAgent;
  if (/SMART-TV|SmartTV|Tizen|Web0S|webOS|HbbTV|CrKey|AFT/i.test(ua)) return 'tv';
  if (/iPad|Tablet/i.test(ua)) return 'tablet';
  if (/Mobi|Android|iPhone/i.test(ua)) return 'mobile';
  return 'desktop';
}

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

// As an app would: the helper's key from the helper's own origin, pinned before the SDK starts.
const pin = await helperPin(location.origin);
const seg = createSegmenter({
  endpoint: location.origin,
  ...(pin.helper ? { aggregators: { helper: pin.helper } } : {}),
  onError: (/** @type {Error} */ e) => console.warn('[edgeseg]', e.message),
});
/** @type {any} */ (window).edgeseg = seg;
if (pin.problem) showPinProblem(pin.problem, (note) => $('you').append(note));

const deviceSelect = /** @type {HTMLSelectElement} */ ($('device'));
const stored = localStorage.getItem(DEVICE_KEY);
deviceSelect.value = stored && DEVICES.includes(stored) ? stored : detectedDevice();
deviceSelect.addEventListener('change', () => localStorage.setItem(DEVICE_KEY, deviceSelect.value));

/** @type {{ version: number, manifest: any } | null} */
let model = null;
/**
 * The manifest of model `version`, from the SDK when it offers it, else the public
 * model route (the SDK has verified the same model; here it only words the reasons).
 * @param {number} version
 */
async function manifestFor(version) {
  const fromSdk = typeof seg.model === 'function' ? await seg.model() : null;
  if (fromSdk?.version === version) return fromSdk;
  if (model?.version === version) return model.manifest;
  try {
    const res = await fetch('/v1/model', { credentials: 'omit' });
    if (!res.ok) return null;
    const manifest = manifestOf(await res.text());
    model = { version: manifest.version, manifest };
    return manifest.version === version ? manifest : null;
  } catch {
    return null;
  }
}

const catalogue = await (await fetch('/demo/catalogue.json')).json();
/** @type {Map<string, any>} */
const titlesById = new Map(catalogue.titles.map((/** @type {{ id: string }} */ t) => [t.id, t]));
renderCatalogue($('catalogue'), catalogue.titles);
enableArrowKeys($('catalogue'));
enableArrowKeys($('campaign'));
$('credit').textContent = catalogue.credit;

async function campaignsNow() {
  if (typeof seg.campaigns !== 'function') return [];
  try {
    return (await seg.campaigns()) ?? [];
  } catch {
    return [];
  }
}

/** @param {any[]} campaigns */
function renderCampaigns(campaigns) {
  const before = $('campaign').dataset.campaign;
  showCampaign($('campaign'), campaigns, titlesById);
  const now = $('campaign').hidden ? undefined : $('campaign').dataset.campaign;
  if (!now) delete $('campaign').dataset.campaign;
  // The SDK counts a shown campaign for the weekly randomized impression report (measurement only).
  if (now && now !== before && typeof seg.campaignShown === 'function') seg.campaignShown(now);
}

let shown = 0;
/** @param {any} s */
async function refresh(s) {
  const turn = ++shown; // a slower, older refresh must not overwrite a newer one
  const manifest = s ? await manifestFor(s.modelVersion) : null;
  const campaigns = await campaignsNow();
  if (turn !== shown) return;
  showSegment($('you'), s, manifest);
  renderCampaigns(campaigns);
}
if (typeof seg.onCampaignsChange === 'function') seg.onCampaignsChange(renderCampaigns);

const player = createPlayer();
/** @param {MouseEvent} e */
function onControl(e) {
  const b = /** @type {HTMLElement} */ (e.target).closest('button');
  const control = b?.dataset.action ?? b?.dataset.control;
  const title = b?.dataset.content ? titlesById.get(b.dataset.content) : undefined;
  if (!title || (control !== 'play' && control !== 'finish' && control !== 'skip')) return;
  const device = /** @type {'tv' | 'mobile' | 'desktop' | 'tablet'} */ (deviceSelect.value);
  for (const event of player.events(control, title, device)) seg.track(event);
  const verb = { play: 'Playing', finish: 'Finished', skip: 'Skipped' }[control];
  $('now-playing').textContent = `${verb}: ${title.title} on ${DEVICE_WORDS[device]}`;
}
$('catalogue').addEventListener('click', onControl);
$('campaign').addEventListener('click', onControl);

const measurement = /** @type {HTMLInputElement} */ ($('measurement'));
measurement.addEventListener('change', () => seg.consent.set({ measurement: measurement.checked }));
seg.consent.onChange((/** @type {{ measurement: boolean }} */ c) => (measurement.checked = c.measurement));

seg.onSegmentChange(refresh);
await seg.ready;
measurement.checked = seg.consent.get().measurement;
await refresh(seg.segment());
document.body.dataset.ready = 'true';
