// @ts-check
/**
 * The public privacy ledgers panel: the leader's ledger and the helper's signed one side
 * by side, a table per released round (ε, δ, σ², bucket sizes and release time as each
 * aggregator states them), every difference flagged, and the helper's state said plainly
 * when its ledger cannot be reached or does not verify.
 */
import { empty, fmt, h, table, when } from './dom.js';
import { compareLedgers, FLAG_TEXT } from './ledger-compare.js';

/** @typedef {import('./ledger-compare.js').LedgerRelease} LedgerRelease */
/** @typedef {import('./ledger-compare.js').LedgerRow} LedgerRow */
/** @typedef {import('./ledger-compare.js').LedgerFlag} LedgerFlag */
/** @typedef {import('./helper-ledger.js').HelperLedger} HelperLedger */

/** @param {string | null} s "num/den" */
function sigma2Text(s) {
  if (s === null) return 'not stated';
  const [num, den = '1'] = s.split('/');
  return `${s} (≈ ${fmt(Number(num) / Number(den), 4)})`;
}

/** @param {Record<string, number> | null} b */
function bucketsText(b) {
  if (b === null) return 'not stated';
  const entries = Object.entries(b).sort(([x], [y]) => x.localeCompare(y, 'en', { numeric: true }));
  return entries.length ? entries.map(([key, n]) => `${key}: ${fmt(n)}`).join(', ') : 'none released';
}

/**
 * The line saying where the helper's figures come from, or why there are none.
 *
 * @param {HelperLedger} helper
 */
function helperLine(helper) {
  switch (helper.state) {
    case 'none':
      return h('p', { id: 'helper-ledger-state', 'data-state': 'none', class: 'muted' }, 'No helper in this deployment: rounds run in local mode (each device adds its own noise) and only the leader keeps a ledger.');
    case 'unreachable':
      return h('p', { id: 'helper-ledger-state', 'data-state': 'unreachable', class: 'alert', role: 'alert' }, `The helper's ledger could not be reached${helper.origin ? ` at ${helper.origin}` : ''} (${helper.reason}): the leader's figures below are not confirmed by the helper.`);
    case 'unverified':
      return h('p', { id: 'helper-ledger-state', 'data-state': 'unverified', class: 'alert', role: 'alert' }, h('strong', {}, 'Helper ledger unverified: do not trust. '), `The ledger served at ${helper.origin} is not shown: ${helper.reason}. The leader's figures below are not confirmed by the helper.`);
    case 'verified': {
      const spent = helper.spent30d ? ` ε the helper counts in the last 30 days: ${fmt(helper.spent30d.training, 3)} for training, ${fmt(helper.spent30d.measurement, 3)} for measurement.` : '';
      return h('p', { id: 'helper-ledger-state', 'data-state': 'verified', class: 'ok' }, `Helper ledger from ${helper.origin}: signature verified in this browser (key ${helper.kid})${helper.iat === null ? '' : `, signed ${when(helper.iat)}`}.${spent}`);
    }
  }
}

/**
 * The verdict over all rounds: how many differ, or that the ledgers agree.
 *
 * @param {LedgerRow[]} rows
 * @param {boolean} compared
 */
function verdict(rows, compared) {
  const differing = rows.filter((r) => r.flags.length > 0);
  const attrs = { id: 'ledger-verdict', 'data-differences': String(differing.length) };
  if (!compared) return h('p', { ...attrs, class: 'muted' }, 'No comparison: there is no verified helper ledger to compare with.');
  if (differing.length === 0) return h('p', { ...attrs, class: 'ok' }, 'No difference: every release both aggregators made is listed by both with the same ε, δ, σ² and bucket sizes.');
  return h('p', { ...attrs, class: 'alert', role: 'alert' }, `${differing.length} round${differing.length === 1 ? '' : 's'} where the ledgers differ: ${differing.map((r) => `${r.round_id} (${r.flags.map((f) => FLAG_TEXT[f]).join('; ')})`).join(' · ')}.`);
}

/**
 * One round: a table with a line per figure, the leader's and the helper's side by side.
 *
 * @param {LedgerRow} row
 * @param {boolean} compared whether a verified helper ledger was compared
 * @param {string} unchecked what the round's caption says when it was not
 */
function roundTable(row, compared, unchecked) {
  const { leader: l, helper: hp, flags } = row;
  const any = l ?? hp;
  const kind = any ? `${any.kind}${l?.measure ? ` of ${l.measure}` : ''}${l?.mode ? ` (${l.mode})` : ''}` : '';
  const state = !compared ? unchecked : flags.length ? `differs: ${flags.map((f) => FLAG_TEXT[f]).join('; ')}` : !hp ? 'leader only (local round)' : !l ? 'the helper released no bucket (each under its minimum batch)' : 'both ledgers agree';
  const helperCell = (/** @type {(r: LedgerRelease) => string} */ f) => (hp ? f(hp) : compared ? 'no release' : '–');
  const leaderCell = (/** @type {(r: LedgerRelease) => string} */ f) => (l ? f(l) : 'no release');
  /** @type {Array<[string, (r: LedgerRelease) => string, LedgerFlag | null]>} */
  const lines = [
    ['ε', (r) => String(r.epsilon), 'epsilon'],
    ['δ', (r) => String(r.delta), 'delta'],
    ['σ² per entry', (r) => sigma2Text(r.sigma2), 'sigma2'],
    ['Bucket sizes', (r) => bucketsText(r.buckets), 'buckets'],
    ['Contributions', (r) => (r.contributions === null ? '–' : fmt(r.contributions)), null],
    ['Released', (r) => when(r.released_at), null],
  ];
  const check = (/** @type {LedgerFlag | null} */ flag) => {
    if (!compared || !l || !hp) return '–';
    if (flag === null) return 'each side’s own';
    return flags.includes(flag) ? h('strong', { class: 'suppressed' }, 'differs') : 'same';
  };
  const el = table(
    `${row.round_id} · ${kind} · ${state}`,
    ['Figure', 'Leader', 'Helper', 'Check'],
    lines.map(([name, f, flag]) => [name, leaderCell(f), helperCell(f), check(flag)]),
  );
  el.classList.add('ledger-round');
  // Through the CSSOM (the CSP refuses style attributes): rounds apart, and the same columns in every round's table.
  el.style.marginTop = '1.25rem';
  const t = el.querySelector('table');
  if (t) t.style.tableLayout = 'fixed';
  el.dataset.round = row.round_id;
  el.dataset.flags = flags.join(' ');
  return el;
}

/**
 * @typedef {{ kind: string, mechanism: string, model_version: number, period: string, released_at: number, epsilon: number, delta: number,
 *   reports: number | null, estimates: { label: string, count: number | null, suppressed: boolean }[] }} TallyRelease
 */

/**
 * The leader's GRR tally releases (segments, lifecycle, impressions), read defensively:
 * entries missing a field are left out rather than shown wrong.
 *
 * @example
 * readTallyReleases(await apiJson('/v1/privacy-ledger'))
 * @param {unknown} ledger
 * @returns {TallyRelease[]}
 */
export function readTallyReleases(ledger) {
  const list = /** @type {{ tally_releases?: unknown }} */ (ledger ?? {}).tally_releases;
  if (!Array.isArray(list)) return [];
  return list.filter((e) => e && typeof e.kind === 'string' && typeof e.period === 'string' && typeof e.epsilon === 'number' && typeof e.delta === 'number' && Array.isArray(e.estimates));
}

/**
 * One table of the leader's GRR tally releases: no helper takes part, so nothing to compare.
 *
 * @param {TallyRelease[]} tallies
 */
function tallyTable(tallies) {
  const figures = (/** @type {TallyRelease} */ t) => t.estimates.map((e) => `${e.label}: ${e.suppressed || e.count === null ? 'suppressed' : fmt(e.count)}`).join(', ');
  const el = table(
    `Randomized-report (GRR) releases · leader only, ${tallies.length}`,
    ['Kind', 'Period', 'Model', 'ε', 'δ', 'Reports', 'Released figures', 'Released'],
    tallies.map((t) => [t.kind, t.period, `v${t.model_version}`, String(t.epsilon), String(t.delta), t.reports === null ? '–' : fmt(t.reports), figures(t), when(t.released_at)]),
  );
  el.id = 'ledger-tallies';
  el.style.marginTop = '1.25rem';
  return el;
}

/**
 * Renders both ledgers. `leader` is GET /v1/privacy-ledger of the leader, read with
 * readReleases; `helper` is what loadHelperLedger found.
 *
 * @example
 * renderLedgers(panel, { releases: readReleases(leaderJson, 'the leader’s ledger'), note: leaderJson.note }, await loadHelperLedger())
 * @param {HTMLElement} panel
 * @param {{ releases: LedgerRelease[], note: string, tallies?: TallyRelease[] }} leader
 * @param {HelperLedger} helper
 */
export function renderLedgers(panel, leader, helper) {
  const tallies = leader.tallies ?? [];
  const compared = helper.state === 'verified';
  const rows = compareLedgers(leader.releases, helper.state === 'verified' ? helper.releases : []).map((r) => (compared ? r : { ...r, flags: [] }));
  const total = leader.releases.reduce((sum, r) => sum + r.epsilon, 0);
  const summary = h('p', { class: 'muted small' }, `The leader lists ${leader.releases.length} release${leader.releases.length === 1 ? '' : 's'}, ε = ${fmt(total, 3)} in total${compared ? `; the helper lists ${helper.releases.length}` : ''}. ${leader.note}`);
  panel.replaceChildren(
    helperLine(helper),
    ...(helper.state === 'none' ? [] : [verdict(rows, compared)]),
    summary,
    ...(rows.length ? rows.map((r) => roundTable(r, compared, helper.state === 'none' ? 'leader only (no helper)' : 'not confirmed by the helper')) : [empty(tallies.length ? 'No round released yet.' : 'Nothing released yet, so no privacy budget has been spent.')]),
    ...(tallies.length ? [tallyTable(tallies)] : []),
  );
}
