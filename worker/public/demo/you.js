// @ts-check
/**
 * The "For you" panel: the segment this device computed, why (the strongest traits of
 * its segment's centroid, worded on the device by describeCentroid), and the campaign
 * slot, filled from the campaigns the signed model carries for this segment.
 */
import { describeCentroid } from '/vendor/edgeseg-shared.js';
import { tile } from './catalogue.js';

/** @typedef {{ id: number, label: string, lifecycle: string | null, modelVersion: number }} SegmentInfo */
/** @typedef {{ version: number, centroids: number[][], scaling: { mean: number[], scale: number[] }, features: string[] }} Manifest */
/** @typedef {{ id: string, segment: number, kind: 'message' | 'content_row', title: string, body?: string, items?: string[] }} Campaign */

const LIFECYCLE_WORDS = { new: 'new viewer', active: 'active viewer', at_risk: 'not watched lately', lapsed: 'lapsed viewer' };

/**
 * Shows the segment and its reasons; `manifest` is the model the segment came from, or
 * null when it could not be read (then the reasons say so rather than guess).
 *
 * @example
 * showSegment(document.getElementById('you'), seg.segment(), manifest)
 * @param {HTMLElement} root the panel holding #segment and #why
 * @param {SegmentInfo | null} s
 * @param {Manifest | null} manifest
 */
export function showSegment(root, s, manifest) {
  const line = /** @type {HTMLElement} */ (root.querySelector('#segment'));
  const why = /** @type {HTMLDetailsElement} */ (root.querySelector('#why'));
  const traits = /** @type {HTMLElement} */ (root.querySelector('#why-traits'));
  line.replaceChildren();
  traits.replaceChildren();
  if (!s) {
    line.textContent = 'No viewing yet: play, finish or skip a title and your segment appears here.';
    why.hidden = true;
    return;
  }
  const strong = document.createElement('strong');
  strong.textContent = s.label;
  const lifecycle = s.lifecycle ? ` · ${LIFECYCLE_WORDS[/** @type {keyof typeof LIFECYCLE_WORDS} */ (s.lifecycle)] ?? s.lifecycle}` : '';
  line.append(strong, `${lifecycle} · model v${s.modelVersion}`);
  line.dataset.segment = String(s.id);
  why.hidden = false;
  const centroid = manifest?.version === s.modelVersion ? manifest.centroids[s.id] : undefined;
  if (!manifest || !centroid) {
    const li = document.createElement('li');
    li.textContent = 'The reasons need the model this segment came from, which this page could not read just now.';
    traits.append(li);
    return;
  }
  const profile = describeCentroid(centroid, manifest.scaling, manifest.features);
  const words = profile.traits.length ? profile.traits : ['viewing close to the typical viewer of this app'];
  for (const t of words) {
    const li = document.createElement('li');
    li.textContent = t;
    traits.append(li);
  }
}

/**
 * Fills the campaign slot with the first campaign for this device, or hides it. Text is
 * set as text, never as HTML: campaign fields come from marketers.
 *
 * @example
 * showCampaign(document.getElementById('campaign'), await seg.campaigns(), titlesById)
 * @param {HTMLElement} slot
 * @param {Campaign[]} campaigns
 * @param {Map<string, import('./catalogue.js').CatalogueTitle>} titlesById
 */
export function showCampaign(slot, campaigns, titlesById) {
  const c = campaigns[0];
  slot.replaceChildren();
  slot.hidden = !c;
  if (!c) return;
  slot.dataset.campaign = c.id;
  const h = document.createElement('h2');
  h.id = 'campaign-h';
  h.textContent = c.title;
  const note = document.createElement('p');
  note.className = 'muted small';
  note.textContent = 'Chosen on this device for your segment; the service is not told that you saw it.';
  slot.append(h);
  if (c.kind === 'message') {
    const p = document.createElement('p');
    p.textContent = c.body ?? '';
    slot.append(p);
  } else {
    const list = document.createElement('ul');
    list.className = 'tiles';
    for (const id of c.items ?? []) {
      const t = titlesById.get(id);
      if (t) list.append(tile(t, { actions: false }));
    }
    slot.append(list);
  }
  slot.append(note);
}
