// @ts-check
/**
 * Lifecycle shares: for the selected week, the share of viewers in each stage (new,
 * active, at risk, lapsed) with its 95% interval, each stage worded with the rules of the
 * signed model; and the shares over the history weeks (uPlot, one line per stage) with
 * the same figures in a table. The shares come from weekly randomized lifecycle reports,
 * debiased by the server: no server learns one viewer's stage.
 */
import { periodStart } from '/vendor/edgeseg-shared.js';
import { darkAxes, drawChart, SERIES_COLOURS } from './history.js';
import { empty, fmt, h, table } from './dom.js';

/** @typedef {'new' | 'active' | 'at_risk' | 'lapsed'} Stage */
/** @typedef {{ stage: Stage, count: number | null, ci95: [number, number] | null, share: number | null, share_ci95: [number, number] | null, suppressed: boolean }} StageShare */
/** @typedef {{ reports: number, mechanism: string, epsilon: number, kThreshold: number, stages: StageShare[] }} LifecycleRelease */
/** @typedef {{ period: string, lifecycle?: LifecycleRelease }} PeriodWithLifecycle */
/** @typedef {{ new_days: number, at_risk_days: number, lapsed_days: number }} LifecycleRules */

/** Stage names for marketers, in the API's stage order. */
export const STAGE_NAMES = /** @type {const} */ ({ new: 'New viewers', active: 'Active', at_risk: 'At risk', lapsed: 'Lapsed' });

/** One colour per stage, from the dashboard's contrast-checked palette (lapsed in pink, at risk in amber). */
const STAGE_COLOURS = { new: SERIES_COLOURS[0], active: SERIES_COLOURS[2], at_risk: SERIES_COLOURS[1], lapsed: SERIES_COLOURS[3] };

/**
 * The rule that puts a device in `stage`, in plain words (the device applies it; see
 * lifecycleStage in shared/src/lifecycle.ts: inactivity wins over newness).
 *
 * @example
 * stageRule('at_risk', { new_days: 14, at_risk_days: 10, lapsed_days: 30 }) // 'no viewing for 10+ days (up to 30)'
 * @param {Stage} stage
 * @param {LifecycleRules} rules
 */
export function stageRule(stage, rules) {
  switch (stage) {
    case 'new':
      return `first viewing under ${rules.new_days} days ago, watched in the last ${rules.at_risk_days} days`;
    case 'active':
      return `watched in the last ${rules.at_risk_days} days, first viewing ${rules.new_days}+ days ago`;
    case 'at_risk':
      return `no viewing for ${rules.at_risk_days}+ days (up to ${rules.lapsed_days})`;
    case 'lapsed':
      return `no viewing for ${rules.lapsed_days}+ days`;
  }
}

/**
 * A share in [0, 1] as a percent with one decimal.
 *
 * @example
 * percent(0.4237) // '42.4%'
 * @param {number} share
 */
export function percent(share) {
  return `${fmt(share * 100, 1)}%`;
}

/**
 * Renders the selected week's lifecycle shares into `panel`.
 *
 * @example
 * renderLifecycle(panel, await apiJson('/v1/segments', { token }), manifest)
 * @param {HTMLElement} panel
 * @param {PeriodWithLifecycle} release one period of GET /v1/segments
 * @param {{ lifecycle?: LifecycleRules } | null} manifest the signed model, for the rules
 */
export function renderLifecycle(panel, release, manifest) {
  const lc = release.lifecycle;
  if (!lc) return panel.replaceChildren(empty(`This server publishes no lifecycle shares for ${release.period} (its GET /v1/segments has no lifecycle field).`));
  const rules = manifest?.lifecycle;
  const rows = lc.stages.map((s) => {
    const name = h('div', {}, h('strong', {}, STAGE_NAMES[s.stage] ?? s.stage), rules ? h('div', { class: 'muted small' }, stageRule(s.stage, rules)) : null);
    const share = s.suppressed || s.share === null
      ? h('span', { class: 'suppressed' }, 'suppressed')
      : h('span', {}, h('span', { class: 'bar', style: `width:${Math.round(s.share * 80)}px`, 'aria-hidden': 'true' }), percent(s.share));
    const ci = s.suppressed || !s.share_ci95 ? h('span', { class: 'suppressed' }, `< ${fmt(lc.kThreshold)} viewers`) : `${percent(s.share_ci95[0])}–${percent(s.share_ci95[1])}`;
    return [name, share, ci];
  });
  const caption = `${release.period} · ${fmt(lc.reports)} lifecycle reports by randomized response (debiased) · ε = ${lc.epsilon} · stages under ${fmt(lc.kThreshold)} viewers are suppressed`;
  const t = table(caption, ['Stage', 'Share of viewers', '95% interval'], rows, { numeric: [1, 2] });
  t.id = 'lifecycle';
  t.querySelectorAll('tbody tr').forEach((tr, i) => tr.setAttribute('data-stage', String(lc.stages[i]?.stage)));
  panel.replaceChildren(t);
  if (lc.reports === 0) panel.append(empty(`No lifecycle reports arrived for ${release.period}: devices send one a week beside their segment report, only with measurement consent.`));
}

/**
 * The share of each stage per period, in percent: null where suppressed or without reports (a gap in the chart).
 *
 * @example
 * stageSeries(history.periods) // [[42.1, null, …], …] one array per stage
 * @param {PeriodWithLifecycle[]} periods
 * @returns {Array<Array<number | null>>}
 */
export function stageSeries(periods) {
  return /** @type {Stage[]} */ (Object.keys(STAGE_NAMES)).map((stage) =>
    periods.map((p) => {
      const s = p.lifecycle?.stages.find((x) => x.stage === stage);
      return !s || s.suppressed || s.share === null || !p.lifecycle?.reports ? null : Math.round(s.share * 1000) / 10;
    }),
  );
}

/**
 * Renders the stage shares over the history weeks into `chartEl` and their table into `tableEl`.
 *
 * @example
 * renderLifecycleTrend(chartEl, tableEl, await apiJson('/v1/segments/history', { token }))
 * @param {HTMLElement} chartEl
 * @param {HTMLElement} tableEl
 * @param {{ model_version: number, periods: PeriodWithLifecycle[] }} history
 */
export function renderLifecycleTrend(chartEl, tableEl, history) {
  const stages = /** @type {Stage[]} */ (Object.keys(STAGE_NAMES));
  const periods = history.periods;
  const ys = stageSeries(periods);
  drawChart(
    chartEl,
    {
      scales: { x: { time: true }, y: { range: (/** @type {unknown} */ _u, /** @type {number | null} */ _min, /** @type {number | null} */ max) => [0, Math.min(100, Math.max(10, Math.ceil(((max ?? 0) * 1.15) / 10) * 10))] } },
      axes: darkAxes('% of viewers'),
      series: [{ label: 'Week of' }, ...stages.map((stage) => ({ label: STAGE_NAMES[stage], stroke: STAGE_COLOURS[stage], width: 2, points: { show: true, size: 5 }, spanGaps: false, value: (/** @type {unknown} */ _u, /** @type {number | null} */ v) => (v === null ? '–' : `${v}%`) }))],
      legend: { live: false },
    },
    [periods.map((p) => periodStart(p.period) / 1000), ...ys],
  );
  const shown = ys.flat().filter((v) => v !== null).length;
  chartEl.setAttribute('aria-label', `Share of viewers per lifecycle stage over ${periods.length} weeks; ${shown ? 'the table below lists the figures' : 'no week has lifecycle shares to show yet'}.`);
  const rows = periods.map((p) => [
    p.period,
    ...stages.map((stage) => {
      const s = p.lifecycle?.stages.find((x) => x.stage === stage);
      return !s || s.suppressed || s.share === null ? 'suppressed' : percent(s.share);
    }),
    p.lifecycle ? fmt(p.lifecycle.reports) : '–',
  ]);
  const t = table('Share of viewers per lifecycle stage (suppressed: under the threshold), and the lifecycle reports of each week', ['Week', ...stages.map((s) => STAGE_NAMES[s].replace(' viewers', '')), 'Reports'], rows, { numeric: [1, 2, 3, 4, 5] });
  t.id = 'lifecycle-history';
  // Six columns may not fit a narrow card: keyboard users scroll the region itself.
  t.tabIndex = 0;
  t.setAttribute('role', 'region');
  t.setAttribute('aria-label', 'Lifecycle shares by week');
  tableEl.replaceChildren(t);
}
