/**
 * The helper's two credentials: the leader's token for the internal routes, and the
 * helper operator's own token for its admin routes. Neither opens the other's routes.
 */
import { createMiddleware } from 'hono/factory';
import { ProblemError } from '../problem.ts';
import type { HelperAppEnv } from './env.ts';

/**
 * Compares two secrets in time that depends only on their length.
 *
 * @example
 * if (!timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('unauthorized');
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function bearerOf(header: string | undefined): string | undefined {
  return /^Bearer (.+)$/.exec(header ?? '')?.[1];
}

/** Only the leader, holding LEADER_TOKEN, may call the internal routes. */
export const requireLeader = createMiddleware<HelperAppEnv>(async (c, next) => {
  const token = bearerOf(c.req.header('authorization'));
  if (!c.env.LEADER_TOKEN || !token || !timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('unauthorized', 'internal routes need the leader token');
  await next();
});

/**
 * Only the helper's own operator, holding HELPER_ADMIN_TOKEN, may change its policy or
 * rotate its key; the leader's token (a credential of the other operator) may not.
 */
export const requireHelperAdmin = createMiddleware<HelperAppEnv>(async (c, next) => {
  const expected = c.env.HELPER_ADMIN_TOKEN;
  if (!expected || expected === c.env.LEADER_TOKEN) throw new ProblemError('misconfigured', 'HELPER_ADMIN_TOKEN is not set (or equals LEADER_TOKEN): `wrangler secret put HELPER_ADMIN_TOKEN` on the helper');
  const token = bearerOf(c.req.header('authorization'));
  if (!token) throw new ProblemError('unauthorized', 'send Authorization: Bearer <HELPER_ADMIN_TOKEN>');
  if (c.env.LEADER_TOKEN && timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('forbidden', 'the leader’s token does not administer the helper');
  if (!timingSafeEqual(token, expected)) throw new ProblemError('unauthorized', 'not the helper’s admin token');
  await next();
});
