/**
 * The helper aggregator as a Hono app: a separate Worker (helper/wrangler.toml), run by
 * another operator, serving the leader's internal calls, its operator's admin routes and
 * a few public GET routes. Nothing of the leader's API is mounted here.
 */
import { helperPolicyFromVars } from '@edgeseg/aggregator';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ProblemError } from '../problem.ts';
import { withProblemHandlers } from '../problem-handlers.ts';
import { securityHeaders } from '../security-headers.ts';
import type { HelperAppEnv } from './env.ts';
import { adminRoutes } from './routes/admin.ts';
import { internalRoutes } from './routes/internal.ts';
import { publicRoutes } from './routes/public.ts';

/** A helper whose policy vars do not parse serves no round (500 `misconfigured`, naming the var). */
const policyVarsParse = createMiddleware<HelperAppEnv>(async (c, next) => {
  try {
    helperPolicyFromVars(c.env as unknown as Record<string, unknown>);
  } catch (err) {
    throw new ProblemError('misconfigured', err instanceof Error ? err.message : String(err));
  }
  await next();
});

/**
 * Builds the helper Worker's request handler.
 *
 * @example
 * export default { fetch: createHelperApp().fetch };
 */
export function createHelperApp(): Hono<HelperAppEnv> {
  const app = new Hono<HelperAppEnv>();
  app.use('*', securityHeaders);
  app.use('/internal/*', policyVarsParse);
  app.use('/v1/*', policyVarsParse);
  app.route('/', publicRoutes);
  app.route('/', internalRoutes);
  app.route('/', adminRoutes);
  return withProblemHandlers(app);
}
