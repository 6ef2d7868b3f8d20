import { DEFAULT_TRAINING, type TrainingSettings } from '@edgeseg/aggregator';
import { isIntIn, isNumberIn, isObject, unknownKeys } from '@edgeseg/shared';
import { Hono } from 'hono';
import { requireRole } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { ProblemError } from '../problem.ts';
import { trainingReport } from '../training.ts';
import { coordinator } from '../coordinator.ts';

const TRAINING_MAX_BYTES = 2 * 1024;
const ROUND_FIELDS = ['duration_s', 'min_batch', 'epsilon', 'delta', 'groups', 'slices'] as const;

/** Checks a `PUT /v1/admin/training` body: a partial schedule merged over the stored one. */
function parseSchedule(body: unknown, current: TrainingSettings): TrainingSettings {
  if (!isObject(body)) throw new ProblemError('invalid-body', 'body: must be a JSON object');
  const errors = unknownKeys(body, ['cadence_days', 'drift_threshold', 'round']).map((k) => `${k}: unknown field`);
  const next: TrainingSettings = { ...current, round: { ...current.round } };
  if (body.cadence_days !== undefined) {
    if (!isIntIn(body.cadence_days, 0, 365)) errors.push('cadence_days: must be an integer in [0, 365] (0 turns scheduled retraining off)');
    else next.cadence_days = body.cadence_days;
  }
  if (body.drift_threshold !== undefined) {
    if (!isNumberIn(body.drift_threshold, 0.01, 10)) errors.push('drift_threshold: must be a number in [0.01, 10]');
    else next.drift_threshold = body.drift_threshold;
  }
  if (body.round !== undefined) {
    const r = body.round;
    if (!isObject(r)) errors.push('round: must be an object');
    else {
      errors.push(...unknownKeys(r, ROUND_FIELDS).map((k) => `round.${k}: unknown field`));
      const ranges: Record<(typeof ROUND_FIELDS)[number], [number, number, boolean]> = {
        duration_s: [60, 30 * 86_400, true],
        min_batch: [1, 10_000_000, true],
        epsilon: [0.01, 20, false],
        delta: [1e-15, 1e-3, false],
        groups: [1, 64, true],
        slices: [1, 16, true],
      };
      for (const name of ROUND_FIELDS) {
        const v = r[name];
        if (v === undefined) continue;
        const [min, max, int] = ranges[name];
        if (!(int ? isIntIn(v, min, max) : isNumberIn(v, min, max))) errors.push(`round.${name}: must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}]`);
        else next.round[name] = v as number;
      }
    }
  }
  if (errors.length) throw new ProblemError('invalid-body', errors[0], errors);
  return next;
}

/**
 * Training health and schedule on the leader: `GET /v1/training` (marketer or admin:
 * k candidates, drift score and alert, next retraining) and `PUT /v1/admin/training`
 * (admin: cadence in days, drift threshold, and the round a retraining opens).
 */
export const trainingRoutes: Hono<AppEnv> = new Hono<AppEnv>()
  .get('/v1/training', requireRole('marketer', 'admin'), async (c) => {
    c.header('cache-control', 'private, no-store');
    return c.json(await trainingReport(c.env, Math.floor(Date.now() / 1000)));
  })
  .put('/v1/admin/training', requireRole('admin'), async (c) => {
    const { settings } = await coordinator(c.env).trainingSchedule();
    const next = parseSchedule(await readJsonBody(c.req.raw, TRAINING_MAX_BYTES), settings as TrainingSettings);
    await coordinator(c.env).setTrainingSchedule(next, Math.floor(Date.now() / 1000));
    return c.json({ settings: next, defaults: DEFAULT_TRAINING });
  });
