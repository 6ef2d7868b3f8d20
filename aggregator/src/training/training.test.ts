import { describe, expect, it } from 'vitest';
import { seededRandom } from '@edgeseg/shared';
import { rationalToNumber, rhoForEpsilon, zcdpToEpsilon } from '@edgeseg/shared/dp';
import type { CentroidUpdate } from '../round/kmeans-update.ts';
import { splitBudget } from './budget.ts';
import { advanceTraining, dataIndependentStart, minCountFor, planTraining, reviveDead, selectCandidate, selectK, shrinkMoves, START_HALF_WIDTH, startTraining } from './schedule.ts';

const encoding = { clip: 8, bound: 2048, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };

function update(centroids: number[][], counts: number[], inertia: number, kept = counts.map(() => false)): CentroidUpdate {
  return { centroids, counts, kept, inertia, silhouette: 0 };
}

describe('budget', () => {
  it('rhoForEpsilon inverts the tight conversion', () => {
    for (const eps of [0.25, 1, 8]) {
      const rho = rhoForEpsilon(eps, 1e-9);
      expect(zcdpToEpsilon(rho, 1e-9)).toBeLessThanOrEqual(eps);
      expect(zcdpToEpsilon(rho * 1.0001, 1e-9)).toBeGreaterThan(eps);
    }
  });

  it('splits ρ by weight and composes back to at most ε', () => {
    const b = splitBudget(1, 1e-9, [1, 1, 1, 2], 2048);
    expect(b.rounds).toHaveLength(4);
    expect(b.composedEpsilon).toBeLessThanOrEqual(1);
    expect(b.composedEpsilon).toBeGreaterThan(0.999);
    expect(b.rounds[3]?.rho as number).toBeCloseTo(2 * (b.rounds[0]?.rho as number), 6);
    // σ² = Δ²/(2ρ): the heavier round gets half the variance.
    expect(rationalToNumber(b.rounds[0]?.sigma2 ?? { num: 0n, den: 1n }) / rationalToNumber(b.rounds[3]?.sigma2 ?? { num: 1n, den: 1n })).toBeCloseTo(2, 4);
    // Each round alone is a smaller ε than the whole.
    for (const r of b.rounds) expect(r.epsilon).toBeLessThan(1);
  });

  it('refuses no rounds and bad weights', () => {
    expect(() => splitBudget(1, 1e-9, [], 2048)).toThrow(RangeError);
    expect(() => splitBudget(1, 1e-9, [1, 0], 2048)).toThrow(RangeError);
  });
});

describe('schedule', () => {
  const plan = planTraining({ k: 3, d: 2, epsilon: 1, delta: 1e-9, rounds: 5, candidates: 4, candidateRounds: 2, encoding });

  it('plans candidate slices first, then one slice, with the last round weighted up', () => {
    expect(plan.slicesPerRound).toEqual([4, 4, 1, 1, 1]);
    const rhos = plan.budget.rounds.map((r) => r.rho);
    expect(rhos[4] as number).toBeCloseTo(2 * (rhos[0] as number), 6);
  });

  it('grows each round\'s weight by `growth`, the last round still weighted up', () => {
    const grown = planTraining({ k: 3, d: 2, epsilon: 1, delta: 1e-9, rounds: 4, candidates: 1, candidateRounds: 0, growth: 1.5, encoding });
    const rhos = grown.budget.rounds.map((r) => r.rho);
    expect((rhos[1] as number) / (rhos[0] as number)).toBeCloseTo(1.5, 6);
    expect((rhos[2] as number) / (rhos[1] as number)).toBeCloseTo(1.5, 6);
    expect((rhos[3] as number) / (rhos[2] as number)).toBeCloseTo(3, 6);
    expect(rhos.reduce((a, b) => a + b, 0)).toBeCloseTo(grown.budget.rho, 9);
  });

  it('starts from data-independent points drawn uniformly from the cube of the given half-width', () => {
    const s = startTraining(plan, seededRandom(1));
    expect(s.slices).toHaveLength(4);
    for (const v of s.slices.flat(2)) expect(Math.abs(v)).toBeLessThanOrEqual(START_HALF_WIDTH);
    const values = dataIndependentStart(500, 4, 2, seededRandom(2)).flat();
    expect(values).toHaveLength(2000);
    for (const v of values) expect(Math.abs(v)).toBeLessThanOrEqual(2);
    // Uniform on [−2, 2]: mean 0 (sd 4/√12/√2000 ≈ 0.026), a quarter in each quarter of the range.
    expect(Math.abs(values.reduce((a, b) => a + b, 0) / values.length)).toBeLessThan(0.13);
    for (const [lo, hi] of [[-2, -1], [-1, 0], [0, 1], [1, 2]] as const) {
      const share = values.filter((v) => v >= lo && v < hi).length / values.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.05);
    }
  });

  it('keeps the candidate with the lowest private inertia per device, then runs one slice', () => {
    let s = startTraining(plan, seededRandom(1));
    const rows = [[0, 0], [1, 1], [2, 2]];
    const ups = [update(rows, [100, 100, 100], 900), update(rows, [50, 50, 50], 300), update(rows, [100, 100, 100], 600), update(rows, [10, 10, 10], 100)];
    s = advanceTraining(plan, s, ups, seededRandom(2));
    expect(s.round).toBe(1);
    expect(s.slices).toHaveLength(4);
    s = advanceTraining(plan, s, ups, seededRandom(2));
    expect(s.round).toBe(2);
    expect(s.slices).toHaveLength(1);
    expect(s.candidateScores).toEqual([3, 2, 2, 10 / 3]);
    expect(s.chosen).toBe(1);
    expect(() => advanceTraining(plan, s, ups, seededRandom(2))).toThrow(RangeError);
  });

  it('moves a dead centroid next to the largest cluster and leaves live ones alone', () => {
    const rows = reviveDead(update([[0, 0], [5, 5], [9, 9]], [10, 500, -3], 0, [false, false, true]), 0.5, seededRandom(4));
    expect(rows[0]).toEqual([0, 0]);
    expect(rows[1]).toEqual([5, 5]);
    expect(Math.hypot((rows[2]?.[0] as number) - 5, (rows[2]?.[1] as number) - 5)).toBeCloseTo(0.5, 9);
  });

  it('shrinks a move by the share the noise explains: full move when precise, none when it is all noise', () => {
    const previous = [[0, 0], [0, 0], [1, 1]];
    const u = update([[3, 4], [3, 4], [9, 9]], [10_000, 10, 5], 0, [false, false, true]);
    // Mean noise variance v = sumNoiseVar / n² (one group): n = 10,000 → tiny; n = 10 → 1 per coordinate.
    const rows = shrinkMoves(previous, u, 100, 1);
    expect(rows[0]?.[0]).toBeCloseTo(3, 5);
    expect(rows[0]?.[1]).toBeCloseTo(4, 5);
    // ‖move‖² = 25, d·v = 2 → w = 1 − 2/25.
    expect(rows[1]?.[0]).toBeCloseTo(3 * (1 - 2 / 25), 9);
    expect(rows[2]).toEqual([9, 9]); // kept centroids are left to reviveDead
    const noisy = shrinkMoves(previous, u, 1e6, 1);
    expect(noisy[1]).toEqual([0, 0]);
  });

  it('selects the candidate and k by their scores', () => {
    expect(selectCandidate([3, 2, 2, 5])).toBe(1);
    expect(selectK([{ k: 4, silhouette: 0.2 }, { k: 6, silhouette: 0.25 }, { k: 8, silhouette: 0.25 }])).toBe(6);
  });

  it('sets the minimum count from the count noise', () => {
    const sigma2 = plan.budget.rounds[0]?.sigma2 ?? { num: 1n, den: 1n };
    const one = minCountFor(sigma2, encoding, 1, 2);
    expect(minCountFor(sigma2, encoding, 4, 2)).toBeCloseTo(2 * one, 9);
    expect(one).toBeGreaterThan(0);
  });
});
