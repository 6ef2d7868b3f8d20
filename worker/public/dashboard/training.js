// @ts-check
/**
 * Training health from GET /v1/training: silhouette by k (the model's k marked) and
 * drift alerts. Until the server publishes the route, the panel says so plainly.
 */
import { darkAxes, drawChart } from './history.js';
import { empty, fmt, h, table, when } from './dom.js';

/** @typedef {{ k: number, k_candidates: Array<{ k: number, silhouette: number, inertia: number }>, drift: { score: number, threshold: number, centroid_shift: number, share_shift: number, checked_at: number } | null, cadence_days: number, next_retrain_at: number | null }} Training */

/**
 * @example
 * renderTraining(panel, chartEl, training)
 * @param {HTMLElement} panel
 * @param {HTMLElement} chartEl
 * @param {Training | null} t null when the route is not there (404)
 */
export function renderTraining(panel, chartEl, t) {
  if (!t) {
    chartEl.hidden = true;
    return panel.replaceChildren(empty('Training health is not published by this server yet (GET /v1/training answered 404): no silhouette or drift figures to show.'));
  }
  const drift = t.drift;
  const alert = !drift
    ? empty('No drift check has run yet.')
    : drift.score > drift.threshold
      ? h('p', { class: 'alert', role: 'alert' }, `Drift alert: score ${fmt(drift.score, 3)} is over the threshold ${fmt(drift.threshold, 3)} (centroid shift ${fmt(drift.centroid_shift, 3)}, share shift ${fmt(drift.share_shift, 3)}, checked ${when(drift.checked_at)}). The next retrain should pick it up.`)
      : h('p', { class: 'ok' }, `No drift: score ${fmt(drift.score, 3)} under the threshold ${fmt(drift.threshold, 3)} (checked ${when(drift.checked_at)}).`);
  const candidates = [...t.k_candidates].sort((a, b) => a.k - b.k);
  panel.replaceChildren(
    alert,
    h('p', {}, `Model k = ${t.k} · retrained every ${t.cadence_days} days · next ${when(t.next_retrain_at)}`),
    candidates.length ? table('Silhouette and inertia by k (higher silhouette: better separated segments)', ['k', 'Silhouette', 'Inertia'], candidates.map((c) => [c.k === t.k ? `${c.k} (in use)` : String(c.k), fmt(c.silhouette, 3), fmt(c.inertia, 1)]), { numeric: [1, 2] }) : empty('No k candidates were scored yet.'),
  );
  chartEl.hidden = candidates.length === 0;
  if (candidates.length === 0) return;
  drawChart(
    chartEl,
    { scales: { x: { time: false } }, axes: darkAxes('silhouette'), series: [{ label: 'k' }, { label: 'silhouette', stroke: '#7cc4ff', width: 2, points: { show: true, size: 7 } }], legend: { live: false } },
    [candidates.map((c) => c.k), candidates.map((c) => c.silhouette)],
  );
  chartEl.setAttribute('aria-label', `Silhouette by k for k = ${candidates.map((c) => c.k).join(', ')}; the table lists the figures.`);
}
