/**
 * The private training schedule (DESIGN.md §5, "initialisation and convergence decide DP
 * k-means quality"), as pure functions the simulator and the Worker share:
 *
 * 1. `candidateRounds` rounds of candidates: S data-independent starts, each refined on
 *    its own disjoint slice of the devices (a device draws one slice per round, so the
 *    round costs it one ρ whatever S is: parallel composition);
 * 2. the candidate with the lowest private inertia per device wins;
 * 3. the remaining rounds refine it on everyone.
 *
 * Dead centroids (noisy count under the minimum, kept in place by `updateCentroids`) are
 * moved next to the largest cluster's centroid, which splits it in the next round; that
 * only reads released aggregates, so it is post-processing and costs no ε.
 */
import { standardNormal, type ContributionEncoding, type RandomSource } from '@edgeseg/shared';
import { encodingScales } from '@edgeseg/shared/secure';
import { rationalToNumber, type Rational } from '@edgeseg/shared/dp';
import type { CentroidUpdate } from '../round/kmeans-update.ts';
import { splitBudget, type TrainingBudget } from './budget.ts';

export interface TrainingOptions {
  k: number;
  d: number;
  /** Total ε per device for the whole training, and δ. */
  epsilon: number;
  delta: number;
  /** Rounds in all (candidate rounds included), ≥ 1. */
  rounds: number;
  /** Candidate starts run side by side on disjoint slices (1 = no candidate phase). */
  candidates: number;
  /** Rounds the candidates run before one is chosen (< rounds). */
  candidateRounds: number;
  /** Weight of the last round's ρ relative to each other round's 1 (default 2). */
  finalWeight?: number;
  /** Each round's weight is `growth` times the previous one's (default 1: equal rounds). */
  growth?: number;
  /** Half-width of the cube the data-independent starts are drawn from (default START_HALF_WIDTH). */
  startHalfWidth?: number;
  encoding: ContributionEncoding;
}

/** What every round of the training looks like before any data is seen. */
export interface TrainingPlan {
  options: TrainingOptions;
  budget: TrainingBudget;
  /** Slices per round: `candidates` in the candidate phase, then 1. */
  slicesPerRound: number[];
}

/** Where a training stands between rounds. */
export interface TrainingState {
  /** Index of the next round to run. */
  round: number;
  /** Centroids each slice of the next round starts from (k rows of d). */
  slices: number[][][];
  /** Private inertia per device of each candidate at the end of the candidate phase, once chosen. */
  candidateScores: number[] | null;
  /** The candidate kept, once chosen. */
  chosen: number | null;
}

/**
 * Plans a training: the ρ split (round r weight growth^r, the last one times
 * `finalWeight`) and the slices per round. Growth > 1 puts the budget where it shows:
 * with few devices every round is noise-limited, and the early rounds only need to find
 * the clusters' rough place while the last ones set the released centroids.
 *
 * @example
 * const plan = planTraining({ k: 8, d: 31, epsilon: 1, delta: 1e-9, rounds: 10, candidates: 4, candidateRounds: 3, encoding });
 * plan.budget.rounds.map((r) => r.epsilon) // the per-round split
 */
export function planTraining(options: TrainingOptions): TrainingPlan {
  const { rounds, candidates, candidateRounds, finalWeight = 2, growth = 1 } = options;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`planTraining: rounds must be an integer ≥ 1, got ${rounds}`);
  if (!Number.isInteger(candidates) || candidates < 1) throw new RangeError(`planTraining: candidates must be an integer ≥ 1, got ${candidates}`);
  const phase = candidates > 1 ? Math.min(candidateRounds, rounds - 1) : 0;
  if (candidates > 1 && phase < 1) throw new RangeError('planTraining: candidates need at least one candidate round and one round after it');
  const weights = Array.from({ length: rounds }, (_, r) => growth ** r * (r === rounds - 1 && rounds > 1 ? finalWeight : 1));
  const budget = splitBudget(options.epsilon, options.delta, weights, options.encoding.bound);
  const slicesPerRound = Array.from({ length: rounds }, (_, r) => (r < phase ? candidates : 1));
  return { options: { ...options, candidateRounds: phase }, budget, slicesPerRound };
}

/**
 * Half-width of the cube [−h, h]^d the data-independent starts are drawn from, in
 * standardised units, for the simulator's training and the Worker's rounds alike
 * (TrainingOptions.startHalfWidth overrides it). The cube measured better than the unit
 * sphere in the simulator (README, Current figures: mean loss ratio 1.054 against 1.062 at
 * 10,000 devices, ε = 1, seeds 1–6; 1.023 / 1.028 against 1.031 / 1.032 at 100,000), worse
 * only at ε = 0.25 (1.046 / 1.037 against 1.040 / 1.030); its points lie about √(d/3) ≈ 3.2
 * from the origin for d = 31 rather than 1.
 */
export const START_HALF_WIDTH = 1;

/**
 * k points drawn uniformly from the cube [−halfWidth, halfWidth]^d, from `random` only:
 * a start that depends on no device's data (DESIGN.md §5: never seed from individual
 * points). The Worker's rounds and the simulator both start here, so the simulator's
 * quality figures measure the start production uses.
 *
 * @example
 * const start = dataIndependentStart(8, 31, START_HALF_WIDTH, seededRandom(1));
 */
export function dataIndependentStart(k: number, d: number, halfWidth: number, random: RandomSource): number[][] {
  const words = new Uint32Array(k * d);
  random(words);
  return Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => (((words[c * d + j] as number) / 2 ** 32) * 2 - 1) * halfWidth));
}

/** A uniformly random direction in d dimensions scaled to `length` (one normal per coordinate). */
function randomOffset(d: number, length: number, random: RandomSource): number[] {
  const row = Array.from({ length: d }, () => standardNormal(random));
  const norm = Math.sqrt(row.reduce((sum, z) => sum + z * z, 0));
  const f = norm > 0 ? length / norm : 0;
  return row.map((z) => z * f);
}

/**
 * The first state of a training: `candidates` data-independent starts (or one).
 *
 * @example
 * let state = startTraining(plan, seededRandom(7));
 */
export function startTraining(plan: TrainingPlan, random: RandomSource): TrainingState {
  const { k, d, startHalfWidth = START_HALF_WIDTH } = plan.options;
  const slices = Array.from({ length: plan.slicesPerRound[0] ?? 1 }, () => dataIndependentStart(k, d, startHalfWidth, random));
  return { round: 0, slices, candidateScores: null, chosen: null };
}

/**
 * The smallest noisy cluster size worth moving a centroid for: four standard deviations
 * of the combined count noise (two aggregators, each σ²) summed over the groups.
 *
 * @example
 * updateCentroids(previous, groups, { minCount: minCountFor(plan.budget.rounds[r].sigma2, encoding, 8) });
 */
export function minCountFor(sigma2: Rational, encoding: ContributionEncoding, groups: number, d: number, noiseShares = 2): number {
  const countScale = encodingScales(encoding, d).count;
  return (4 * Math.sqrt(noiseShares * rationalToNumber(sigma2) * groups)) / countScale;
}

/**
 * Moves every centroid kept for a too-small count next to the largest cluster's centroid
 * (a small data-independent offset), so the next round splits that cluster instead of
 * leaving the centroid dead. Returns new rows; reads only released values.
 *
 * @example
 * const rows = reviveDead(update, 0.5, seededRandom(3));
 */
export function reviveDead(update: CentroidUpdate, offset: number, random: RandomSource): number[][] {
  const rows = update.centroids.map((row) => [...row]);
  const alive = update.counts.map((c, i) => (update.kept[i] ? -Infinity : c));
  for (let c = 0; c < rows.length; c++) {
    if (!update.kept[c]) continue;
    let largest = 0;
    for (let i = 1; i < alive.length; i++) if ((alive[i] as number) > (alive[largest] as number)) largest = i;
    if (alive[largest] === -Infinity) break; // nothing alive to split
    const base = rows[largest] as number[];
    const dir = randomOffset(base.length, offset, random);
    rows[c] = base.map((v, j) => v + (dir[j] as number));
    // The split cluster is roughly halved: let the next dead centroid pick another.
    alive[largest] = (alive[largest] as number) / 2;
    alive[c] = alive[largest] as number;
  }
  return rows;
}

/**
 * Shrinks each centroid's move toward where it was, by how much of the move the noise
 * alone would explain (positive-part James–Stein): with the mean's noise variance v per
 * coordinate, d·v is the expected squared length of a pure-noise move, so the move is
 * scaled by max(0, 1 − d·v / ‖move‖²). A well-measured cluster moves fully; a cluster
 * whose mean is mostly noise stays put instead of jumping away. Reads only released
 * values and the public noise level: post-processing, no ε.
 *
 * `sumNoiseVar` is the noise variance of one coordinate sum of one (slice, group) bucket
 * in standardised units² (secure: both aggregators' σ² over the coordinate scale²). The
 * median of G group means has about π/2 times the variance of their mean.
 *
 * @example
 * const rows = shrinkMoves(previous, update, 0.9, 3);
 */
export function shrinkMoves(previous: readonly (readonly number[])[], update: CentroidUpdate, sumNoiseVar: number, groups: number): number[][] {
  return update.centroids.map((row, c) => {
    const before = previous[c] as readonly number[];
    if (update.kept[c]) return [...row];
    const n = Math.max(1, update.counts[c] as number);
    const perGroup = n / groups;
    const meanVar = ((groups > 1 ? Math.PI / 2 : 1) * sumNoiseVar) / (perGroup * perGroup) / groups;
    let move2 = 0;
    for (let j = 0; j < row.length; j++) move2 += ((row[j] as number) - (before[j] as number)) ** 2;
    const w = move2 > 0 ? Math.max(0, 1 - (row.length * meanVar) / move2) : 1;
    return row.map((v, j) => (before[j] as number) + w * (v - (before[j] as number)));
  });
}

/**
 * Advances the training by one released round: `updates[s]` is slice s's centroid
 * update. At the end of the candidate phase the candidate with the lowest private
 * inertia per device wins; every later round continues from the one slice. With
 * `noise` (per slice: a bucket's coordinate-sum noise variance, and the groups), each
 * move is first shrunk by {@link shrinkMoves}.
 *
 * @example
 * state = advanceTraining(plan, state, updates, seededRandom(9));
 * if (state.round === plan.options.rounds) publish(state.slices[0]);
 */
export function advanceTraining(plan: TrainingPlan, state: TrainingState, updates: readonly CentroidUpdate[], random: RandomSource, noise?: { sumNoiseVar: number[]; groups: number }): TrainingState {
  if (updates.length !== state.slices.length) throw new RangeError(`advanceTraining: ${updates.length} updates for ${state.slices.length} slices`);
  const next = state.round + 1;
  const shrunk = noise ? updates.map((u, s) => ({ ...u, centroids: shrinkMoves(state.slices[s] as number[][], u, noise.sumNoiseVar[s] as number, noise.groups) })) : updates;
  const revived = shrunk.map((u) => reviveDead(u, 0.5, random));
  if (state.slices.length > 1 && (plan.slicesPerRound[next] ?? 1) === 1) {
    const scores = updates.map(privateInertiaPerDevice);
    const chosen = selectCandidate(scores);
    return { ...state, round: next, slices: [revived[chosen] as number[][]], candidateScores: scores, chosen };
  }
  return { ...state, round: next, slices: revived };
}

/**
 * Private inertia per device of one released update (Infinity with no devices).
 *
 * @example
 * privateInertiaPerDevice(update) // e.g. 14.2
 */
export function privateInertiaPerDevice(update: CentroidUpdate): number {
  const size = update.counts.reduce((a, b) => a + Math.max(0, b), 0);
  return size > 0 ? update.inertia / size : Infinity;
}

/**
 * The index of the lowest score (ties → lowest index).
 *
 * @example
 * selectCandidate([14.2, 13.9, 15.0]) // 1
 */
export function selectCandidate(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) < (scores[best] as number)) best = i;
  return best;
}

/**
 * k selection from candidate k values run on disjoint slices: the k with the highest
 * private mean simplified silhouette (ties → the smaller k). Inertia always falls as k
 * grows, so it cannot choose k; the silhouette trades cohesion against separation.
 *
 * @example
 * selectK([{ k: 4, silhouette: 0.21 }, { k: 6, silhouette: 0.24 }, { k: 8, silhouette: 0.22 }]) // 6
 */
export function selectK(candidates: readonly { k: number; silhouette: number }[]): number {
  if (candidates.length === 0) throw new RangeError('selectK: no candidates');
  let best = candidates[0] as { k: number; silhouette: number };
  for (const c of candidates) if (c.silhouette > best.silhouette || (c.silhouette === best.silhouette && c.k < best.k)) best = c;
  return best.k;
}
