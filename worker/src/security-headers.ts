/**
 * Hardening headers on every answer the Worker makes (the API, problem+json errors, the
 * 404 for a missing page). The pages themselves are static assets and get theirs from
 * worker/public/_headers. These answers are data, never a document: opened in a browser,
 * nothing in them may run, load or be framed, and no browser may read them as another type.
 *
 * Set after the handler (and the error handler) made the answer, as device-cors.ts does,
 * so no placeholder Response is built per request on the report route.
 */
import type { MiddlewareHandler } from 'hono';

/** The headers, exported so tests check the same values. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Middleware for every Worker route.
 *
 * @example
 * app.use('*', securityHeaders);
 */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  try {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) c.res.headers.set(name, value);
  } catch {
    // An answer with immutable headers (one passed through from a fetch): copy it once.
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) copy.headers.set(name, value);
    c.res = copy;
  }
};
