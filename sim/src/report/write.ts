/**
 * `--report FILE.html`: one self-contained HTML file (inline SVG charts, no scripts or
 * fetches): privacy–utility curves for both modes, per-round convergence, silhouette by
 * k, segment profiles in plain words (`describeCentroid`), lifecycle shares, and the
 * segment-count error against randomized-response theory.
 */
import { writeFileSync } from 'node:fs';
import { describeCentroid, LIFECYCLE_STAGES } from '@edgeseg/shared';
import type { SimOptions } from '../args.ts';
import { MOVIELENS_IN_REPO_DIR } from '../data/movielens.ts';
import type { SimRun } from '../simulate.ts';
import type { StageClock } from '../stages.ts';
import { barChart, escapeXml, lineChart } from './svg.ts';
import { reportData, type ReportData } from './sweep.ts';

const SECURE = '#1f77b4';
const LOCAL = '#d62728';
const GREY = '#7f7f7f';

function commandOf(opts: SimOptions): string {
  const parts = ['npm run simulate --', `--dataset ${opts.dataset}`];
  // The in-repo copy is the default: leaving it out keeps the command valid on any clone.
  if (opts.dataDir && opts.dataDir !== MOVIELENS_IN_REPO_DIR) parts.push(`--data-dir ${opts.dataDir}`);
  parts.push(`--clients ${opts.clients}`, `--k ${opts.k}`, `--epsilon ${opts.epsilon}`, `--rounds ${opts.rounds}`, `--seed ${opts.seed}`, `--mode ${opts.mode}`, `--groups ${opts.groups}`);
  if (opts.dropout) parts.push(`--dropout ${opts.dropout}`);
  parts.push(`--report ${opts.report ?? 'report.html'}`);
  return parts.join(' ');
}

/**
 * The report's HTML from a run and its report data.
 *
 * @example
 * const html = reportHtml(opts, run, data);
 */
export function reportHtml(opts: SimOptions, sim: SimRun, data: ReportData): string {
  const r = sim.result;
  const pop = sim.population;
  const d = pop.d;
  const curve = (mode: 'secure' | 'local', key: 'lossRatio' | 'ari' | 'truthAri') =>
    data.sweep.filter((p) => p.mode === mode && p[key] !== null).map((p) => [p.epsilon, p[key] as number] as const);
  const sizes = new Array<number>(opts.k).fill(0);
  for (const l of sim.privateLabels) sizes[l] = (sizes[l] as number) + 1;
  const profiles = Array.from({ length: opts.k }, (_, c) => ({ c, share: (sizes[c] as number) / pop.n, ...describeCentroid(Array.from(sim.privateCentroids.subarray(c * d, c * d + d)), pop.scaling, pop.names) })).sort((a, b) => b.share - a.share);
  const stageCounts = LIFECYCLE_STAGES.map((s) => [s, pop.stages.filter((x) => x === s).length / pop.n] as const);
  const table = ['<table><thead><tr><th>ε</th><th>secure lossRatio</th><th>secure ARI</th><th>local lossRatio</th><th>local ARI</th></tr></thead><tbody>'];
  for (const e of [...new Set(data.sweep.map((p) => p.epsilon))]) {
    const s = data.sweep.find((p) => p.mode === 'secure' && p.epsilon === e);
    const l = data.sweep.find((p) => p.mode === 'local' && p.epsilon === e);
    table.push(`<tr><td>${e}</td><td>${s?.lossRatio.toFixed(3)}</td><td>${s?.ari.toFixed(3)}</td><td>${l?.lossRatio.toFixed(3)}</td><td>${l?.ari.toFixed(3)}</td></tr>`);
  }
  table.push('</tbody></table>');
  const charts = [
    lineChart(
      [
        { name: 'secure (two aggregators)', color: SECURE, points: curve('secure', 'lossRatio') },
        { name: 'local (noise on device)', color: LOCAL, points: curve('local', 'lossRatio') },
      ],
      { title: 'Loss ratio (private ÷ non-private inertia)', xLabel: 'total ε per device', yLabel: 'loss ratio', logX: true },
    ),
    lineChart(
      [
        { name: 'secure: ARI vs non-private', color: SECURE, points: curve('secure', 'ari') },
        { name: 'local: ARI vs non-private', color: LOCAL, points: curve('local', 'ari') },
        { name: `stability of non-private (${r.stabilityAri.toFixed(3)})`, color: GREY, dashed: true, points: data.sweep.filter((p) => p.mode === 'secure').map((p) => [p.epsilon, r.stabilityAri] as const) },
        ...(pop.truth
          ? [
              { name: 'secure: ARI vs truth', color: '#2ca02c', points: curve('secure', 'truthAri') },
              { name: 'local: ARI vs truth', color: '#ff7f0e', points: curve('local', 'truthAri') },
            ]
          : []),
      ],
      { title: 'Agreement (adjusted Rand index)', xLabel: 'total ε per device', yLabel: 'ARI', logX: true },
    ),
    lineChart(
      [
        { name: `true inertia ÷ non-private (${r.mode}, ε = ${r.epsilon.total})`, color: SECURE, points: r.convergence.map((t) => [t.round, t.inertia / r.nonPrivate.inertia] as const) },
        { name: 'what the servers see: private inertia per device of the best slice (clipped vectors, noisy) ÷ non-private', color: GREY, dashed: true, points: r.convergence.map((t) => [t.round, t.privateInertiaPerDevice / (r.nonPrivate.inertia / pop.n)] as const) },
      ],
      { title: 'Per-round convergence', xLabel: 'round', yLabel: 'ratio to non-private' },
    ),
    lineChart(
      [
        { name: 'non-private silhouette (10,000-device sample)', color: GREY, points: data.silhouetteByK.map((s) => [s.k, s.nonPrivate] as const) },
        { name: `private simplified silhouette (disjoint slices, ε = ${r.epsilon.total})`, color: SECURE, points: data.silhouetteByK.map((s) => [s.k, s.private] as const) },
      ],
      { title: `Silhouette by k (private choice: k = ${data.selectedK})`, xLabel: 'k', yLabel: 'silhouette' },
    ),
    barChart(stageCounts, { title: 'Lifecycle shares', format: (v) => `${(100 * v).toFixed(1)}%` }),
    lineChart(
      [
        { name: 'measured RMSE of debiased counts', color: SECURE, points: data.countError.map((c) => [c.epsilon, c.rmse] as const) },
        { name: 'randomized-response theory', color: GREY, dashed: true, points: data.countError.map((c) => [c.epsilon, c.theoreticalRmse] as const) },
      ],
      { title: `Segment count error (${pop.n} GRR reports, k = ${opts.k})`, xLabel: 'ε per report', yLabel: 'RMSE (devices)', logX: true },
    ),
  ];
  const profileRows = profiles.map((p) => `<tr><td>${p.c}</td><td>${(100 * p.share).toFixed(1)}%</td><td>${escapeXml(p.label)}</td><td>${p.traits.map(escapeXml).join('; ')}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeseg simulation report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}code{background:#f4f4f4;padding:1px 4px}</style></head>
<body><h1>edgeseg simulation report</h1>
<p>${escapeXml(r.dataset)}: ${r.clients} devices from ${r.users} ${r.dataset === 'synthetic' ? 'archetypes' : 'source users'}, k = ${r.k}, ${r.rounds} rounds, ${r.groups} group(s), ${r.candidates} candidate start(s), dropout ${r.dropout}, seed ${r.seed}.
Main run: ${r.mode} mode at ε = ${r.epsilon.total} (δ = ${r.epsilon.delta}): lossRatio <b>${r.lossRatio.toFixed(4)}</b>, ARI ${r.ari.toFixed(3)} (non-private runs agree at ${r.stabilityAri.toFixed(3)})${r.truthAri ? `, ARI vs truth ${r.truthAri.private.toFixed(3)}` : ''}.</p>
<p>Command: <code>${escapeXml(commandOf(opts))}</code></p>
<h2>Privacy–utility</h2>${table.join('')}
<div class="grid">${charts.join('\n')}</div>
<h2>Segment profiles (private model)</h2>
<table><thead><tr><th>#</th><th>share</th><th>label</th><th>top distinguishing traits</th></tr></thead><tbody>${profileRows}</tbody></table>
<h2>Budget split</h2><p>ε of each round alone: ${r.epsilon.perRound.map((e) => e.toFixed(3)).join(', ')}; composed in zCDP (ρ = ${r.epsilon.rho.toPrecision(4)}) back to ε = ${r.epsilon.composed.toFixed(4)}.</p>
<script type="application/json" id="data">${JSON.stringify({ result: r, report: data }).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}

/**
 * Computes the report data and writes the HTML file; adds the sweep to the run's JSON.
 *
 * @example
 * await writeReport('report.html', opts, run, clock);
 */
export async function writeReport(file: string, opts: SimOptions, sim: SimRun, clock: StageClock): Promise<void> {
  const data = reportData(opts, sim, clock);
  (sim.result as { sweep?: ReportData['sweep'] }).sweep = data.sweep;
  writeFileSync(file, reportHtml(opts, sim, data));
}
