/**
 * CORS for the device routes: apps embed the SDK on their own origin, so these routes
 * answer any origin, without credentials (the SDK never sends cookies).
 *
 * Preflights go through Hono's `cors()`. An actual request gets its two headers set on
 * the answer once the handler (or the error handler) made it: Hono's `cors()` sets them
 * on `c.res` before the handler runs, which builds a placeholder Response for every
 * request and copies its headers into the real one afterwards, and on the report route,
 * measured under load, that was a large part of what a report cost beyond /healthz.
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** What device routes expose to scripts of any origin: the model's ETag, for revalidation. */
const EXPOSED = 'etag';

/**
 * Middleware for device routes.
 *
 * @example
 * app.use('/v1/reports', deviceCors);
 */
export const deviceCors: MiddlewareHandler = (() => {
  const preflight = cors({ origin: '*', allowMethods: ['GET', 'POST'], allowHeaders: ['content-type', 'if-none-match'], exposeHeaders: [EXPOSED], maxAge: 86_400 });
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    try {
      c.res.headers.set('access-control-allow-origin', '*');
      c.res.headers.set('access-control-expose-headers', EXPOSED);
    } catch {
      // An answer with immutable headers (one passed through from a fetch): copy it once.
      const copy = new Response(c.res.body, c.res);
      copy.headers.set('access-control-allow-origin', '*');
      copy.headers.set('access-control-expose-headers', EXPOSED);
      c.res = copy;
    }
  };
})();
