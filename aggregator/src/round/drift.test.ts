import { describe, expect, it } from 'vitest';
import { centroidShift, DEFAULT_TRAINING, shareShift, trainingDue } from './drift.ts';

describe('drift', () => {
  it('measures centroid moves in standard deviations per coordinate, and none across a change of k', () => {
    expect(centroidShift([[0, 0]], [[0.3, 0.4]])).toBeCloseTo(0.5 / Math.SQRT2, 12);
    expect(centroidShift([[0, 0], [1, 1]], [[0, 0], [1, 1]])).toBe(0);
    expect(centroidShift([[0, 0]], [[0, 0], [1, 1]])).toBeNull();
  });

  it('measures share moves as total variation, treating suppressed counts as zero', () => {
    expect(shareShift([50, 50], [80, 20])).toBeCloseTo(0.3, 12);
    expect(shareShift([100, null], [100, 0])).toBe(0);
    expect(shareShift([null, null], [10, 0])).toBeNull();
  });
});

describe('trainingDue', () => {
  const day = 86_400;
  const settings = { ...DEFAULT_TRAINING, cadence_days: 7, drift_threshold: 0.4 };

  it('is due once the cadence has elapsed since the last training', () => {
    expect(trainingDue({ nowS: 10 * day, settings, lastTrainedAt: 2 * day, scheduledFrom: 0, drift: null, roundOpen: false })).toEqual({ due: true, reason: 'cadence: 7 days since the last training', next_at: 9 * day });
    expect(trainingDue({ nowS: 8 * day, settings, lastTrainedAt: 2 * day, scheduledFrom: 0, drift: 0.1, roundOpen: false })).toMatchObject({ due: false, next_at: 9 * day });
  });

  it('is due at once when drift reaches the threshold, but never while a round is open', () => {
    expect(trainingDue({ nowS: 3 * day, settings, lastTrainedAt: 2 * day, scheduledFrom: 0, drift: 0.45, roundOpen: false }).due).toBe(true);
    expect(trainingDue({ nowS: 30 * day, settings, lastTrainedAt: 2 * day, scheduledFrom: 0, drift: 0.9, roundOpen: true }).due).toBe(false);
  });

  it('never schedules by cadence when it is off, and counts from when the schedule was set for a never-trained model', () => {
    expect(trainingDue({ nowS: 100 * day, settings: DEFAULT_TRAINING, lastTrainedAt: null, scheduledFrom: 0, drift: null, roundOpen: false })).toEqual({ due: false, reason: 'scheduled retraining is off', next_at: null });
    expect(trainingDue({ nowS: 5 * day, settings, lastTrainedAt: null, scheduledFrom: 1 * day, drift: null, roundOpen: false })).toMatchObject({ due: false, next_at: 8 * day });
  });
});
