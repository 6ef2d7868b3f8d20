/**
 * What the report adds to a run: the privacy–utility sweep over ε in both modes, the
 * silhouette by k (non-private on a sample; private from candidate k on disjoint slices),
 * and the GRR count error against its theory over report ε.
 */
import { adjustedRandIndex, inertiaOf, kmeans, randomBelow, seededRandom, silhouette } from '@edgeseg/shared';
import { selectK } from '../../../aggregator/src/training/index.ts';
import type { SimOptions } from '../args.ts';
import { segmentCountError } from '../evaluate.ts';
import type { Population } from '../population.ts';
import type { StageClock } from '../stages.ts';
import { trainWith, type SimRun } from '../simulate.ts';

export const SWEEP_EPSILONS = [0.25, 0.5, 1, 2, 4, 8] as const;
const REPORT_EPSILONS = [0.5, 1, 2, 4, 8] as const;

export interface SweepPoint {
  mode: 'secure' | 'local';
  epsilon: number;
  lossRatio: number;
  ari: number;
  truthAri: number | null;
}

export interface SilhouetteByK {
  k: number;
  nonPrivate: number;
  /** Private mean simplified silhouette of a training of this k on its own disjoint slice. */
  private: number;
}

export interface ReportData {
  sweep: SweepPoint[];
  silhouetteByK: SilhouetteByK[];
  /** The k the private silhouettes would choose (selectK). */
  selectedK: number;
  countError: { epsilon: number; rmse: number; theoreticalRmse: number; relativeRmse: number }[];
}

function shuffled(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(i + 1, random);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

function rowsOf(pop: Population, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * pop.d);
  rows.forEach((r, i) => out.set(pop.matrix.subarray(r * pop.d, r * pop.d + pop.d), i * pop.d));
  return out;
}

/**
 * Runs the sweep and the by-k and count-error series for the report.
 *
 * @example
 * const data = reportData(opts, run, clock);
 */
export function reportData(opts: SimOptions, sim: SimRun, clock: StageClock): ReportData {
  const pop = sim.population;
  const sweep: SweepPoint[] = [];
  for (const mode of ['secure', 'local'] as const) {
    for (const epsilon of SWEEP_EPSILONS) {
      const t = performance.now();
      const training = trainWith(opts, pop, epsilon, mode);
      const { inertia, labels } = inertiaOf(pop.matrix, pop.d, training.centroids);
      const point = { mode, epsilon, lossRatio: inertia / sim.result.nonPrivate.inertia, ari: adjustedRandIndex(labels, sim.baselineLabels), truthAri: pop.truth ? adjustedRandIndex(labels, pop.truth) : null };
      sweep.push(point);
      clock.note(`sweep ${mode} ε = ${epsilon}: lossRatio ${point.lossRatio.toFixed(4)}, ari ${point.ari.toFixed(3)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
  }
  const ks = [2, 3, 4, 5, 6, 7, 8, 9, 10].filter((k) => k * 50 <= pop.n);
  const order = shuffled(pop.n, opts.seed + 101);
  const sample = rowsOf(pop, order.subarray(0, Math.min(pop.n, 10_000)));
  const part = Math.floor(pop.n / ks.length);
  const silhouetteByK = ks.map((k, i) => {
    const fit = kmeans(sample, pop.d, k, { restarts: 3, seed: opts.seed });
    const nonPrivate = silhouette(sample, pop.d, fit.labels, k, { seed: opts.seed });
    const slice = rowsOf(pop, order.subarray(i * part, (i + 1) * part));
    const priv = trainWith(opts, pop, opts.epsilon, opts.mode, k, slice).privateSilhouette;
    clock.note(`silhouette k = ${k}: non-private ${nonPrivate.toFixed(3)}, private ${priv.toFixed(3)}`);
    return { k, nonPrivate, private: priv };
  });
  const countError = REPORT_EPSILONS.map((e) => {
    const c = segmentCountError(sim.privateLabels, opts.k, e, opts.seed + 31);
    return { epsilon: e, rmse: c.rmse, theoreticalRmse: c.theoreticalRmse, relativeRmse: c.relativeRmse };
  });
  return { sweep, silhouetteByK, selectedK: silhouetteByK.length ? selectK(silhouetteByK.map((s) => ({ k: s.k, silhouette: s.private }))) : opts.k, countError };
}
