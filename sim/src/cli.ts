/**
 * `npm run simulate -- [options]` (see args.ts USAGE): runs the product's code paths for
 * many simulated devices in one process and scores the private model against the
 * non-private baseline. Progress and per-stage times go to stderr; the result to stdout.
 * Exit codes: 0 done, 2 bad arguments or data, 1 anything else.
 */
import { parseSimArgs, USAGE, type SimOptions } from './args.ts';
import { UsageError } from './data/errors.ts';
import { writeAssignmentsCsv, writeFeaturesCsv } from './exports.ts';
import { writeReport } from './report/write.ts';
import { runPrio3Sample } from './prio3-sample.ts';
import { ENCODING, runSimulation, type SimResult } from './simulate.ts';
import { stageClock } from './stages.ts';
import { runViaHttp } from './http/run.ts';

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function summary(r: SimResult): string {
  const lines = [
    `edgeseg simulation: ${r.dataset}, ${r.clients} devices from ${r.users} ${r.dataset === 'synthetic' ? 'archetypes' : 'source users'}, k = ${r.k}, ${r.mode} mode, ${r.rounds} rounds, ${r.groups} group(s), ${r.candidates} candidate(s)`,
    `privacy: ε = ${r.epsilon.total} per device for the whole training (δ = ${r.epsilon.delta}; ρ = ${fmt(r.epsilon.rho, 5)} zCDP, composed back to ε = ${fmt(r.epsilon.composed)})`,
    `  split over rounds (ε of each round alone): ${r.epsilon.perRound.map((e) => fmt(e, 3)).join(', ')}`,
    `non-private: inertia ${fmt(r.nonPrivate.inertia, 1)}, silhouette ${fmt(r.nonPrivate.silhouette)}`,
    `private:     inertia ${fmt(r.private.inertia, 1)}, silhouette ${fmt(r.private.silhouette)} (private simplified silhouette ${fmt(r.private.privateSilhouette)})`,
    `lossRatio ${fmt(r.lossRatio)}   ari ${fmt(r.ari)}   stabilityAri ${fmt(r.stabilityAri)}${r.truthAri ? `   ARI vs truth: private ${fmt(r.truthAri.private)}, non-private ${fmt(r.truthAri.nonPrivate)}` : ''}`,
    `segment counts (GRR, ε = ${r.segmentCounts.epsilon} per report): rmse ${fmt(r.segmentCounts.rmse, 1)} (theory ${fmt(r.segmentCounts.theoreticalRmse, 1)}), ${fmt(100 * r.segmentCounts.relativeRmse, 2)}% of a mean segment`,
    `per round (inertia ÷ non-private): ${r.convergence.map((t) => fmt(t.inertia / r.nonPrivate.inertia, 3)).join(' → ')}`,
  ];
  if (r.prio3) {
    const p = r.prio3;
    lines.push(`Prio3 (--prio3-sample, real reports, proofs verified; the other devices on the fast share path): counts ${fmt(p.shardMs, 2)} ms shard, ${fmt(p.prepMs, 2)} ms prepare per aggregator over ${p.devices} devices; k-means ${fmt(p.kmeans.shardMs, 1)} ms shard, ${fmt(p.kmeans.prepMs, 1)} ms prepare over ${p.kmeans.devices}`);
  }
  lines.push(`stages, wall s (cpu s): ${Object.entries(r.stages).map(([k, v]) => `${k} ${v.toFixed(2)} (${(r.cpuSeconds[k] ?? NaN).toFixed(2)})`).join('; ')}`);
  lines.push(`total ${r.seconds.toFixed(1)} s on ${r.machine.cpus} cpus, load average ${r.machine.loadAverage.join(' ')}`);
  return lines.join('\n');
}

async function run(opts: SimOptions): Promise<number> {
  const clock = stageClock((m) => process.stderr.write(`${m}\n`));
  const started = performance.now();
  if (opts.viaHttp) {
    const out = await runViaHttp(opts, clock);
    process.stdout.write(opts.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const sim = await runSimulation(opts, clock);
  if (opts.mode === 'secure' && opts.prio3Sample > 0) {
    const { population: pop, privateCentroids, privateLabels } = sim;
    sim.result.prio3 = await clock.timeAsync(`prio3 sample (${Math.min(opts.prio3Sample, pop.n)} devices' real reports)`, () =>
      runPrio3Sample({ devices: opts.prio3Sample, matrix: pop.matrix, d: pop.d, k: opts.k, centroids: privateCentroids, labels: privateLabels, groups: opts.groups, encoding: ENCODING, epsilon: opts.epsilon, delta: opts.delta, seed: opts.seed }),
    );
  }
  if (opts.exportFeatures) {
    const file = opts.exportFeatures;
    clock.time('export features', () => writeFeaturesCsv(file, sim.population.names, sim.population.matrix));
  }
  if (opts.exportAssignments) {
    const file = opts.exportAssignments;
    clock.time('export assignments', () => writeAssignmentsCsv(file, sim.privateLabels, sim.baselineLabels));
  }
  if (opts.report) {
    const file = opts.report;
    await clock.timeAsync('report (ε sweep in both modes, silhouette by k)', () => writeReport(file, opts, sim, clock));
  }
  sim.result.seconds = (performance.now() - started) / 1000;
  process.stdout.write(opts.json ? `${JSON.stringify(sim.result)}\n` : `${summary(sim.result)}\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: SimOptions;
  try {
    opts = parseSimArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`simulate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await run(opts);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`simulate: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`simulate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
