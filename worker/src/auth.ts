/**
 * Bearer-token auth for the marketer and admin API: ES256 JWTs, algorithm pinned,
 * issuer, audience and expiry checked by jose.
 */
import { createMiddleware } from 'hono/factory';
import { jwtVerify } from 'jose';
import type { AppEnv } from './env.ts';
import { signingKey } from './keys.ts';
import { ProblemError } from './problem.ts';
import { limitBySubject } from './rate-limit.ts';

/** Roles a token may carry. */
export type Role = 'marketer' | 'admin';

/**
 * Middleware that admits a request only with a valid token whose `role` is one of `roles`.
 *
 * @example
 * app.get('/v1/segments', requireRole('marketer', 'admin'), handler);
 */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match) throw new ProblemError('unauthorized', 'send Authorization: Bearer <token> (npm run dev-token prints one locally)');
    const key = await signingKey(c.env.AUTH_SIGNING_JWK, 'AUTH_SIGNING_JWK');
    let role: unknown;
    let subject: unknown;
    try {
      const { payload } = await jwtVerify(match[1] as string, key.publicKey, {
        algorithms: ['ES256'],
        issuer: c.env.TOKEN_ISSUER,
        audience: c.env.TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'role'],
      });
      role = payload.role;
      subject = payload.sub;
    } catch (err) {
      throw new ProblemError('unauthorized', err instanceof Error ? err.message : 'invalid token');
    }
    if (!roles.includes(role as Role)) throw new ProblemError('forbidden', `this route needs role ${roles.join(' or ')}`);
    c.set('role', role as string);
    // Counted once per request, even where route modules stack two role checks.
    if (c.get('subject') === undefined) {
      c.set('subject', typeof subject === 'string' ? subject : `role:${String(role)}`);
      await limitBySubject(c.env, c.req.raw, c.get('subject'));
    }
    await next();
  });
}
