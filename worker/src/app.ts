/**
 * The edgeseg API as a Hono app: one route module per concern, problem+json for every
 * error. Static pages (/demo, /preferences, /dashboard) are served from `worker/public`
 * by Workers static assets before this app runs.
 */
import { Hono } from 'hono';
import { deviceCors } from './device-cors.ts';
import type { AppEnv } from './env.ts';
import { withProblemHandlers } from './problem-handlers.ts';
import { limitByClientAddress } from './rate-limit.ts';
import { securityHeaders } from './security-headers.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { healthRoutes } from './routes/health.ts';
import { modelRoutes } from './routes/model.ts';
import { contributionRoutes } from './routes/contributions.ts';
import { hpkeConfigRoutes } from './routes/hpke-configs.ts';
import { impressionRoutes } from './routes/impressions.ts';
import { keyRoutes } from './routes/keys.ts';
import { reportRoutes } from './routes/reports.ts';
import { roundRoutes } from './routes/rounds.ts';
import { segmentRoutes } from './routes/segments.ts';
import { stackConfigRoutes } from './routes/stack-config.ts';
import { trainingRoutes } from './routes/training.ts';

/**
 * Builds the leader Worker's request handler: devices, marketers and admins. (The
 * helper is another Worker with its own entry, worker/src/helper/.)
 *
 * @example
 * const app = createApp();
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', securityHeaders); // first, so it sees the final answer (errors included)
  // Device routes answer any origin (device-cors.ts); marketer routes stay same-origin.
  for (const path of ['/v1/model', '/v1/reports', '/v1/impressions', '/v1/contributions', '/v1/rounds/current', '/v1/stack', '/.well-known/*']) app.use(path, deviceCors);
  for (const path of ['/v1/reports', '/v1/impressions', '/v1/contributions']) app.use(path, limitByClientAddress);
  app.route('/', healthRoutes);
  app.route('/', modelRoutes);
  app.route('/', stackConfigRoutes);
  app.route('/', hpkeConfigRoutes);
  app.route('/', reportRoutes);
  app.route('/', roundRoutes);
  app.route('/', contributionRoutes);
  app.route('/', segmentRoutes);
  app.route('/', trainingRoutes);
  app.route('/', keyRoutes);
  app.route('/', campaignRoutes);
  app.route('/', impressionRoutes);
  return withProblemHandlers(app);
}
