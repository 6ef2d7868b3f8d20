// @ts-check
/**
 * Training health from GET /v1/training: silhouette by k (the model's k marked), drift
 * alerts and the retraining schedule. Until a server publishes the route, the panel
 * says so plainly.
 */
import { darkAxes, drawChart } from './history.js';
import { empty, fmt, h, table, when } from './dom.js';

/** @typedef {{ k: number, silhouette: number, inertia_per_device?: number, inertia?: number, devices?: number }} KCandidate */
/** @typedef {{ score: number, threshold: number, alert?: boolean, centroid_shift: number | null, share_shift: number | null, checked_at: number }} Drift */
/** @typedef {{ model_version?: number, k: number, k_candidates: KCandidate[], drift: Drift | null, settings?: { cadence_days: number }, cadence_days?: number, last_trained_at?: number | null, next_retrain_at: number | null, status?: string }} Training */

/** @param {number | null} x */
const shift = (x) => (x === null ? 'not measured yet' : fmt(x, 3));

/**
 * The drift line: an alert (role=alert) when the score passes the threshold.
 *
 * @example
 * driftLine({ score: 0.4, threshold: 0.25, alert: true, centroid_shift: 0.4, share_shift: null, checked_at: 1764000000 })
 * @param {Drift | null} drift
 */
export function driftLine(drift) {
  if (!drift) return empty('No drift check has run yet: it needs a trained model or two released weeks.');
  const alert = drift.alert ?? drift.score > drift.threshold;
  const detail = `centroid shift ${shift(drift.centroid_shift)}, share shift ${shift(drift.share_shift)}, checked ${when(drift.checked_at)}`;
  return alert
    ? h('p', { class: 'alert', role: 'alert' }, `Drift alert: score ${fmt(drift.score, 3)} is over the threshold ${fmt(drift.threshold, 3)} (${detail}). Retraining is due.`)
    : h('p', { class: 'ok' }, `No drift: score ${fmt(drift.score, 3)} is under the threshold ${fmt(drift.threshold, 3)} (${detail}).`);
}

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
  const cadence = t.settings?.cadence_days ?? t.cadence_days;
  const schedule = [`Model k = ${t.k}`, t.last_trained_at ? `last trained ${when(t.last_trained_at)}` : 'not trained by a round yet', cadence ? `retrained every ${cadence} days` : 'scheduled retraining off', `next ${when(t.next_retrain_at)}`].join(' · ');
  const candidates = [...t.k_candidates].sort((a, b) => a.k - b.k);
  panel.replaceChildren(
    driftLine(t.drift),
    h('p', {}, schedule),
    t.status ? h('p', { class: 'muted small' }, t.status) : null,
    candidates.length
      ? table('Silhouette by k from the last k-selection round (higher: better separated segments)', ['k', 'Silhouette', 'Inertia per device'], candidates.map((c) => [c.k === t.k ? `${c.k} (in use)` : String(c.k), fmt(c.silhouette, 3), fmt(c.inertia_per_device ?? c.inertia ?? NaN, 2)]), { numeric: [1, 2] })
      : empty('No k-selection round has run yet, so there is no silhouette by k to show.'),
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
