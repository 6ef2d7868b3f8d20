/**
 * One simulation run: population → non-private baseline → private training → scores,
 * as the JSON object of `--json`.
 */
import { cpus, loadavg } from 'node:os';
import { adjustedRandIndex, type ContributionEncoding } from '@edgeseg/shared';
import { TRAINING_ENCODING as DEFAULT_ENCODING } from '../../aggregator/src/training/index.ts';
import type { SimOptions } from './args.ts';
import { baselineKmeans } from './baseline/kmeans.ts';
import { scoreCentroids, stabilityOf, segmentCountError, type SegmentCountError } from './evaluate.ts';
import { buildPopulation, type Population } from './population.ts';
import type { StageClock } from './stages.ts';
import type { Prio3Sample } from './prio3-sample.ts';
import { trainPrivately, type RoundTrace, type TrainOutput } from './train.ts';

/** The `--json` object (the fields, plus details). */
export interface SimResult {
  dataset: string;
  users: number;
  clients: number;
  k: number;
  rounds: number;
  mode: 'secure' | 'local';
  groups: number;
  candidates: number;
  dropout: number;
  seed: number;
  epsilon: { total: number; perRound: number[]; delta: number; rho: number; rhoPerRound: number[]; composed: number };
  nonPrivate: { inertia: number; silhouette: number };
  private: { inertia: number; silhouette: number; privateSilhouette: number };
  lossRatio: number;
  ari: number;
  stabilityAri: number;
  /** Synthetic data only: ARI of each clustering against the true segments. */
  truthAri: { private: number; nonPrivate: number } | null;
  segmentCounts: { rmse: number; relativeRmse: number; theoreticalRmse: number; epsilon: number };
  convergence: RoundTrace[];
  candidateScores: number[] | null;
  chosenCandidate: number | null;
  /** Secure mode with `--prio3-sample`: the sampled devices' real report path, per report (null otherwise). */
  prio3: Prio3Sample | null;
  stages: Record<string, number>;
  cpuSeconds: Record<string, number>;
  /** Cores and load average when the run ended: wall-clock times depend on them. */
  machine: { cpus: number; loadAverage: number[] };
  seconds: number;
}

/** Everything a run made, for exports and the report. */
export interface SimRun {
  result: SimResult;
  population: Population;
  baselineCentroids: Float64Array;
  baselineLabels: Int32Array;
  privateCentroids: Float64Array;
  privateLabels: Int32Array;
  training: TrainOutput;
  counts: SegmentCountError;
}

/** The encoding devices use: the Worker's default (worker/src/round-plan.ts DEFAULT_ENCODING is this constant). */
export const ENCODING: ContributionEncoding = DEFAULT_ENCODING;

/**
 * Trains privately with the run's options at (ε, mode), on a population already built.
 *
 * @example
 * const out = trainWith(opts, pop, 0.5, 'local');
 */
export function trainWith(opts: SimOptions, pop: Population, epsilon: number, mode: 'secure' | 'local', k = opts.k, matrix = pop.matrix): TrainOutput {
  return trainPrivately({
    mode,
    matrix,
    d: pop.d,
    k,
    epsilon,
    delta: opts.delta,
    rounds: opts.rounds,
    groups: opts.groups,
    candidates: opts.candidates,
    candidateRounds: opts.candidateRounds,
    growth: opts.roundGrowth,
    dropout: opts.dropout,
    seed: opts.seed,
    encoding: ENCODING,
  });
}

/**
 * Runs the whole simulation in-process.
 *
 * @example
 * const run = await runSimulation(parseSimArgs(['--dataset', 'synthetic', '--clients', '2000']), clock);
 */
export async function runSimulation(opts: SimOptions, clock: StageClock, population?: Population): Promise<SimRun> {
  const started = performance.now();
  const pop =
    population ??
    (await clock.timeAsync('features', () =>
      buildPopulation({
        dataset: opts.dataset,
        dataDir: opts.dataDir ?? '',
        clients: opts.clients,
        k: opts.k,
        seed: opts.seed,
        progress: (done, total) => clock.note(`features: ${done} of ${total} devices`),
      }),
    ));
  const { d, k } = { d: pop.d, k: opts.k };
  // The baseline and the two stability fits share one pool of restarts on worker threads
  // (from 20,000 devices), which claim their jobs themselves: the private training and its
  // scoring, which need no baseline, run on this thread meanwhile instead of waiting.
  const baselineName = `baseline and stability (3 fits × best of ${opts.restarts} k-means++ and Lloyd)`;
  const baselineStarted = performance.now();
  let baselineCpu: number | undefined;
  const fits = baselineKmeans(pop.matrix, d, k, { restarts: opts.restarts, seeds: [opts.seed, opts.seed + 1, opts.seed + 2], cpu: (s) => (baselineCpu = s) }).then((out) => {
    clock.add(baselineName, (performance.now() - baselineStarted) / 1000, baselineCpu);
    return out;
  });
  // Never an unhandled rejection while this thread trains: the error surfaces at the await below.
  fits.catch(() => {});
  const training = clock.time(`training (${opts.rounds} rounds × ${pop.n} devices, ${opts.mode})`, () => trainWith(opts, pop, opts.epsilon, opts.mode), { thisThread: true });
  clock.note(`  of which devices (encode, share, sum) ${training.trace.reduce((a, r) => a + r.secondsDevices, 0).toFixed(2)} s, aggregators (noise, combine, decode, update) ${training.trace.reduce((a, r) => a + r.secondsAggregate, 0).toFixed(2)} s`);
  const priv = clock.time('scoring the private model', () => scoreCentroids(pop.matrix, d, k, training.centroids, opts.seed), { thisThread: true });
  const [baseline, ...again] = await fits;
  if (!baseline) throw new Error('runSimulation: no baseline fit');
  const stabilityAri = stabilityOf([baseline.labels, ...again.map((fit) => fit.labels)]);
  const scored = clock.time('scoring the baseline', () => ({ priv, nonPrivSilhouette: scoreCentroids(pop.matrix, d, k, baseline.centroids, opts.seed).silhouette }));
  const counts = clock.time('segment reports (GRR)', () => segmentCountError(scored.priv.labels, k, opts.reportEpsilon, opts.seed + 17));
  const budget = training.plan.budget;
  const result: SimResult = {
    dataset: pop.dataset,
    users: pop.users,
    clients: pop.n,
    k,
    rounds: opts.rounds,
    mode: opts.mode,
    groups: opts.groups,
    candidates: opts.candidates,
    dropout: opts.dropout,
    seed: opts.seed,
    epsilon: { total: opts.epsilon, perRound: budget.rounds.map((r) => r.epsilon), delta: opts.delta, rho: budget.rho, rhoPerRound: budget.rounds.map((r) => r.rho), composed: budget.composedEpsilon },
    nonPrivate: { inertia: baseline.inertia, silhouette: scored.nonPrivSilhouette },
    private: { inertia: scored.priv.inertia, silhouette: scored.priv.silhouette, privateSilhouette: training.privateSilhouette },
    lossRatio: scored.priv.inertia / baseline.inertia,
    ari: adjustedRandIndex(scored.priv.labels, baseline.labels),
    stabilityAri,
    truthAri: pop.truth ? { private: adjustedRandIndex(scored.priv.labels, pop.truth), nonPrivate: adjustedRandIndex(baseline.labels, pop.truth) } : null,
    segmentCounts: { rmse: counts.rmse, relativeRmse: counts.relativeRmse, theoreticalRmse: counts.theoreticalRmse, epsilon: counts.epsilon },
    convergence: training.trace,
    candidateScores: training.candidateScores,
    chosenCandidate: training.chosen,
    prio3: null,
    stages: clock.seconds,
    cpuSeconds: clock.cpuSeconds,
    machine: { cpus: cpus().length, loadAverage: loadavg().map((x) => Number(x.toFixed(2))) },
    seconds: (performance.now() - started) / 1000,
  };
  return { result, population: pop, baselineCentroids: baseline.centroids, baselineLabels: baseline.labels, privateCentroids: training.centroids, privateLabels: scored.priv.labels, training, counts };
}
