/**
 * The not-found and error handlers both Workers (leader and helper) install: every
 * answer that is not a route's own is problem+json.
 */
import type { Env, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { problemResponse, ProblemError } from './problem.ts';

/**
 * Installs the handlers on `app` and returns it.
 *
 * @example
 * return withProblemHandlers(app);
 */
export function withProblemHandlers<E extends Env>(app: Hono<E>): Hono<E> {
  app.notFound((c) => problemResponse('not-found', { detail: `${c.req.method} ${new URL(c.req.url).pathname}` }));
  app.onError((err) => {
    if (err instanceof ProblemError) return err.getResponse();
    if (err instanceof HTTPException) return problemResponse(err.status === 405 ? 'method-not-allowed' : 'internal', { detail: err.message });
    console.error('unhandled error', err);
    return problemResponse('internal');
  });
  return app;
}
