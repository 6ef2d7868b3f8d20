import { summariseTally } from '@edgeseg/aggregator';
import { isIntIn, isoWeekPeriod, isPeriod } from '@edgeseg/shared';
import { Hono } from 'hono';
import { requireRole } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { currentModel, manifestOf } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { tallyStub } from './reports.ts';

/**
 * `GET /v1/segments?period=2026-W48&model_version=1` for marketers: debiased counts with
 * 95% intervals; segments under the k-threshold are suppressed.
 */
export const segmentRoutes = new Hono<AppEnv>().get('/v1/segments', requireRole('marketer', 'admin'), async (c) => {
  const period = c.req.query('period') ?? isoWeekPeriod(Date.now());
  if (!isPeriod(period)) throw new ProblemError('invalid-body', 'period: must be an ISO week such as 2026-W48');
  const versionParam = c.req.query('model_version');
  const modelVersion = versionParam === undefined ? (await currentModel(c.env)).version : Number(versionParam);
  if (!isIntIn(modelVersion, 1, Number.MAX_SAFE_INTEGER)) throw new ProblemError('invalid-body', 'model_version: must be a positive integer');
  const manifest = await manifestOf(c.env, modelVersion);
  if (!manifest) throw new ProblemError('not-found', `model v${modelVersion} was never published`);

  const counts = await tallyStub(c.env, modelVersion, period).counts(manifest.k);
  const kThreshold = Number(c.env.K_THRESHOLD ?? '50');
  const summary = summariseTally({ counts, epsilon: manifest.epsilon.report, kThreshold, labels: manifest.labels });
  c.header('cache-control', 'private, no-store');
  return c.json({ period, model_version: modelVersion, ...summary });
});
