/**
 * Private training on the simulated population: the schedule from
 * `@edgeseg/aggregator` (planTraining / startTraining / advanceTraining), each round run
 * by `runRound`, with per-round dropout.
 */
import { randomFraction, seededRandom, type ContributionEncoding } from '@edgeseg/shared';
import { inertiaOf } from '@edgeseg/shared';
import { rationalToNumber } from '@edgeseg/shared/dp';
import { encodingScales } from '@edgeseg/shared/secure';
import { advanceTraining, minCountFor, planTraining, privateInertiaPerDevice, startTraining, type TrainingPlan } from '../../aggregator/src/training/index.ts';
import { deviceSeed } from './population.ts';
import { runRound, type Mode } from './round.ts';

export interface TrainInput {
  mode: Mode;
  matrix: Float32Array;
  d: number;
  k: number;
  epsilon: number;
  delta: number;
  rounds: number;
  groups: number;
  candidates: number;
  candidateRounds: number;
  dropout: number;
  seed: number;
  encoding: ContributionEncoding;
  /** Weight of the last round's ρ relative to each other round's 1 (planTraining's default when absent). */
  finalWeight?: number;
  /** Growth of the rounds' ρ weights (planTraining's default when absent). */
  growth?: number;
  /** Shrink noisy moves toward the previous centroid (default true; see shrinkMoves). */
  shrink?: boolean;
}

/** One round as the report charts it. */
export interface RoundTrace {
  round: number;
  slices: number;
  contributions: number;
  /** ε this round charges each device (alone), and its ρ. */
  epsilon: number;
  rho: number;
  /** Private inertia per device of the best slice (what the servers see). */
  privateInertiaPerDevice: number;
  /** True inertia of that slice's new centroids over the whole matrix (for the chart; not available to the servers). */
  inertia: number;
  secondsDevices: number;
  secondsAggregate: number;
}

export interface TrainOutput {
  plan: TrainingPlan;
  centroids: Float64Array;
  trace: RoundTrace[];
  /** Private inertia per device of each candidate, and the one kept. */
  candidateScores: number[] | null;
  chosen: number | null;
  /** Count-weighted private simplified silhouette of the last round. */
  privateSilhouette: number;
}

/**
 * Trains k centroids privately.
 *
 * @example
 * const out = trainPrivately({ mode: 'secure', matrix, d: 31, k: 8, epsilon: 1, delta: 1e-9, rounds: 10, groups: 1, candidates: 4, candidateRounds: 3, dropout: 0, seed: 1, encoding });
 */
export function trainPrivately(input: TrainInput): TrainOutput {
  const { matrix, d, k } = input;
  const n = matrix.length / d;
  const plan = planTraining({ k, d, epsilon: input.epsilon, delta: input.delta, rounds: input.rounds, candidates: input.candidates, candidateRounds: input.candidateRounds, encoding: input.encoding, ...(input.finalWeight !== undefined ? { finalWeight: input.finalWeight } : {}), ...(input.growth !== undefined ? { growth: input.growth } : {}) });
  const schedule = seededRandom(deviceSeed(input.seed, -1));
  const deviceRandom = seededRandom(deviceSeed(input.seed, -2));
  const shareRandom = seededRandom(deviceSeed(input.seed, -3));
  const leaderNoise = seededRandom(deviceSeed(input.seed, -4));
  const helperNoise = seededRandom(deviceSeed(input.seed, -5));
  let state = startTraining(plan, schedule);
  const trace: RoundTrace[] = [];
  const present = new Uint8Array(n);
  let privateSilhouette = 0;
  for (let r = 0; r < input.rounds; r++) {
    for (let i = 0; i < n; i++) present[i] = input.dropout > 0 && randomFraction(schedule) < input.dropout ? 0 : 1;
    const budget = plan.budget.rounds[r] as (typeof plan.budget.rounds)[number];
    const S = state.slices.length;
    const perBucket = Math.max(1, n / (S * input.groups));
    const minCount = minCountFor(budget.sigma2, input.encoding, input.groups, d, input.mode === 'secure' ? 2 : perBucket);
    const out = runRound({ mode: input.mode, matrix, d, slices: state.slices, groups: input.groups, encoding: input.encoding, sigma2: budget.sigma2, minCount, present, deviceRandom, shareRandom, leaderNoise, helperNoise });
    const scores = out.updates.map(privateInertiaPerDevice);
    const best = scores.indexOf(Math.min(...scores));
    const bestUpdate = out.updates[best] ?? out.updates[0];
    privateSilhouette = bestUpdate?.silhouette ?? 0;
    const rows = new Float64Array((bestUpdate?.centroids ?? []).flat());
    trace.push({
      round: r + 1,
      slices: S,
      contributions: out.contributions,
      epsilon: budget.epsilon,
      rho: budget.rho,
      privateInertiaPerDevice: scores[best] ?? Infinity,
      inertia: rows.length === k * d ? inertiaOf(matrix, d, rows).inertia : NaN,
      secondsDevices: out.seconds.devices,
      secondsAggregate: out.seconds.aggregate,
    });
    // The public noise level of one bucket's coordinate sums, in standardised units².
    const coordScale = encodingScales(input.encoding, d).coords;
    const sigma2 = rationalToNumber(budget.sigma2);
    const sumNoiseVar = state.slices.map(() => (input.mode === 'secure' ? 2 * sigma2 : perBucket * sigma2) / (coordScale * coordScale));
    state = advanceTraining(plan, state, out.updates, schedule, input.shrink === false ? undefined : { sumNoiseVar, groups: input.groups });
  }
  return { plan, centroids: new Float64Array((state.slices[0] ?? []).flat()), trace, candidateScores: state.candidateScores, chosen: state.chosen, privateSilhouette };
}

/** σ² of a round as a plain number, for printing. */
export function sigmaOf(plan: TrainingPlan, round: number): number {
  const b = plan.budget.rounds[round];
  return b ? Math.sqrt(rationalToNumber(b.sigma2)) : NaN;
}
