// @ts-check
/**
 * The trend chart: noisy viewers per segment over the released periods (uPlot), with
 * the same figures in a table for screen readers and keyboard users.
 */
import uPlot from '/vendor/uPlot.esm.js';
import { periodStart } from '/vendor/edgeseg-shared.js';
import { fmt, h, table } from './dom.js';

/** Line colours with at least 3:1 contrast on the dark panel. */
export const SERIES_COLOURS = ['#7cc4ff', '#ffcf70', '#7ee2a8', '#ff9bb3', '#c9a7ff', '#ffa36b', '#6fe3e3', '#e3e36f', '#b0c4de', '#ff7f7f'];

/** @type {Map<HTMLElement, uPlot>} */
const charts = new Map();

/**
 * Axis options for the dark theme.
 *
 * @example
 * new uPlot({ axes: darkAxes(), ... })
 * @param {string} [yLabel]
 */
export function darkAxes(yLabel) {
  const axis = { stroke: '#a9b0bd', grid: { stroke: '#2a2f3a', width: 1 }, ticks: { stroke: '#2a2f3a', width: 1 } };
  return [axis, { ...axis, label: yLabel, size: 60 }];
}

/**
 * Draws (or redraws) a uPlot chart in `el`, sized to it, replacing any chart there.
 *
 * @example
 * drawChart(el, { series: [...], scales: { x: { time: true } } }, data)
 * @param {HTMLElement} el
 * @param {object} options uPlot options without width and height
 * @param {Array<Array<number | null>>} data
 */
export function drawChart(el, options, data) {
  charts.get(el)?.destroy();
  el.replaceChildren();
  const width = Math.max(280, el.clientWidth || 600);
  const chart = new uPlot({ width, height: 240, ...options }, data, el);
  charts.set(el, chart);
  return chart;
}

addEventListener('resize', () => {
  for (const [el, chart] of charts) chart.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
});

/**
 * Renders the history of every segment into `chartEl` and its table into `tableEl`.
 *
 * @example
 * renderHistory(chartEl, tableEl, await apiJson('/v1/segments/history', { token }))
 * @param {HTMLElement} chartEl
 * @param {HTMLElement} tableEl
 * @param {{ model_version: number, periods: import('./segments.js').Release[] }} history
 */
export function renderHistory(chartEl, tableEl, history) {
  const periods = history.periods;
  const labels = periods[0]?.segments.map((s) => s.label) ?? [];
  const xs = periods.map((p) => periodStart(p.period) / 1000);
  const ys = labels.map((_, i) => periods.map((p) => {
    const s = p.segments[i];
    return !s || s.suppressed ? null : s.count;
  }));
  drawChart(
    chartEl,
    {
      // From 0, and a visible axis even when every count is suppressed.
      scales: { x: { time: true }, y: { range: (/** @type {unknown} */ _u, /** @type {number | null} */ _min, /** @type {number | null} */ max) => [0, Math.max(10, (max ?? 0) * 1.1)] } },
      axes: darkAxes('viewers'),
      series: [{ label: 'Week of' }, ...labels.map((label, i) => ({ label, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], width: 2, points: { show: true, size: 5 }, spanGaps: false }))],
      legend: { live: false },
    },
    [xs, ...ys],
  );
  const shown = ys.flat().filter((v) => v !== null).length;
  chartEl.setAttribute('aria-label', `Noisy viewers per segment over ${periods.length} weeks of model v${history.model_version}; ${shown ? 'the table below lists the figures' : 'every count so far is suppressed or zero'}.`);
  const rows = periods.map((p) => [p.period, ...p.segments.map((s) => (s.suppressed || s.count === null ? 'suppressed' : fmt(s.count))), fmt(p.reports)]);
  tableEl.replaceChildren(table(`Noisy viewers per segment, model v${history.model_version} (suppressed: under the threshold)`, ['Week', ...labels, 'Reports'], rows, { numeric: labels.map((_, i) => i + 1).concat(labels.length + 1) }));
}
