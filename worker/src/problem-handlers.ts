/**
 * The not-found and error handlers both Workers (leader and helper) install: every
 * answer that is not a route's own is problem+json.
 */
import type { Env, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { problemResponse, ProblemError, type ProblemType } from './problem.ts';

/** The problem type of a framework HTTPException's status (a 4xx keeps its meaning; anything else is internal). */
const BY_STATUS: Readonly<Partial<Record<number, ProblemType>>> = { 400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed', 413: 'body-too-large', 415: 'unsupported-media-type', 429: 'rate-limited' };

/**
 * The problem type for an HTTP status raised outside our routes (Hono or its middleware).
 *
 * @example
 * problemForStatus(405) // 'method-not-allowed'
 * problemForStatus(418) // 'bad-request'
 * problemForStatus(502) // 'internal'
 */
export function problemForStatus(status: number): ProblemType {
  return BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'bad-request' : 'internal');
}

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
    const type = err instanceof HTTPException ? problemForStatus(err.status) : 'internal';
    if (type !== 'internal') return problemResponse(type, { detail: err.message });
    // A server error's message may hold internals: logged, never answered.
    console.error('unhandled error', err);
    return problemResponse('internal');
  });
  return app;
}
