// @ts-check
/**
 * The segments table: each segment's label and generated profile (describeCentroid on
 * the model's centroid), its noisy count with the 95% interval, and suppression marks.
 */
import { describeCentroid } from '/vendor/edgeseg-shared.js';
import { fmt, h, table } from './dom.js';

/** @typedef {{ segment: number, label: string, count: number | null, ci95: [number, number] | null, suppressed: boolean }} SegmentCount */
/** @typedef {{ period: string, model_version: number, reports: number, mechanism: string, epsilon: number, kThreshold: number, segments: SegmentCount[] }} Release */
/** @typedef {{ version: number, k: number, labels: string[], centroids: number[][], scaling: { mean: number[], scale: number[] }, features: string[], lifecycle: { new_days: number, at_risk_days: number, lapsed_days: number }, campaigns?: Array<{ id: string, segment: number, kind: string, title: string, body?: string, items?: string[], starts_at?: number, ends_at?: number }> }} Manifest */

/**
 * The generated profile of segment `i` of `manifest`.
 *
 * @example
 * profileOf(manifest, 0) // { label: 'Evening binge-watchers of drama on TV', traits: [...] }
 * @param {Manifest} manifest
 * @param {number} i
 */
export function profileOf(manifest, i) {
  const centroid = manifest.centroids[i];
  return centroid ? describeCentroid(centroid, manifest.scaling, manifest.features) : { label: '', traits: [] };
}

/**
 * Renders one period's release into `panel`.
 *
 * @example
 * renderSegments(panel, await apiJson('/v1/segments', { token }), manifest)
 * @param {HTMLElement} panel
 * @param {Release} release
 * @param {Manifest} manifest the model the release counts segments of
 */
export function renderSegments(panel, release, manifest) {
  const max = Math.max(1, ...release.segments.map((s) => s.count ?? 0));
  const how = release.mechanism === 'secure-counts' ? 'secure counts (two aggregators, central noise)' : 'randomized reports (debiased)';
  const rows = release.segments.map((s) => {
    const profile = manifest.version === release.model_version ? profileOf(manifest, s.segment) : { label: '', traits: [] };
    const name = h(
      'div',
      {},
      h('strong', {}, s.label),
      profile.label ? h('div', { class: 'muted small' }, `Profile: ${profile.label}`) : null,
      profile.traits.length ? h('ul', { class: 'traits', 'aria-label': `What sets ${s.label} apart` }, ...profile.traits.map((t) => h('li', {}, t))) : null,
    );
    const count = s.suppressed || s.count === null
      ? h('span', { class: 'suppressed' }, 'suppressed')
      : h('span', {}, h('span', { class: 'bar', style: `width:${Math.round((s.count / max) * 80)}px`, 'aria-hidden': 'true' }), fmt(s.count));
    const ci = s.suppressed || !s.ci95 ? h('span', { class: 'suppressed' }, `< ${fmt(release.kThreshold)}`) : `${fmt(s.ci95[0])}–${fmt(s.ci95[1])}`;
    return [name, count, ci];
  });
  const caption = `${release.period} · model v${release.model_version} · ${fmt(release.reports)} ${release.mechanism === 'secure-counts' ? 'contributions' : 'reports'} by ${how} · ε = ${release.epsilon} · counts under ${fmt(release.kThreshold)} are suppressed`;
  const t = table(caption, ['Segment', 'Viewers (noisy)', '95% interval'], rows, { numeric: [1, 2] });
  t.id = 'segments';
  t.querySelectorAll('tbody tr').forEach((tr, i) => tr.setAttribute('data-segment', String(release.segments[i]?.segment)));
  panel.replaceChildren(t);
}
