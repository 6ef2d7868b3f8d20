/**
 * Rate limiting with the Workers Rate Limiting binding (`[[ratelimits]]` in
 * wrangler.toml; miniflare runs the same fixed-window counter locally).
 *
 * Device POST routes are limited per client address (`CF-Connecting-IP`, which
 * Cloudflare's edge always sets). Not per app: the SDK sends no app id, and an
 * unauthenticated app id would only let one client multiply its budget by inventing ids.
 * Marketer/admin routes are limited per token subject, after the token verifies.
 *
 * A refused request is answered 429 before its body is read, so it stores nothing.
 *
 * Device routes ask the binding through `DeferredCounts` (deferred-counts.ts): an
 * address's first request in an isolate's window is admitted uncounted, and counted
 * together with its second if it comes back. A device's weekly request then costs no
 * binding call, and an address that comes back is counted exactly, its first request included.
 */
import { createMiddleware } from 'hono/factory';
import { DeferredCounts } from './deferred-counts.ts';
import type { AppEnv, Env } from './env.ts';
import { ProblemError } from './problem.ts';

/**
 * Window lengths of the two bindings in seconds: keep in step with `simple.period` in
 * wrangler.toml. A fixed window has certainly rolled over after one period, so this is
 * an honest Retry-After (an upper bound).
 */
export const RATE_LIMIT_PERIOD_S = { device: 10, api: 10 } as const;

/** True for addresses no request through Cloudflare's edge can have (loopback, or none at all). */
function isLocalClient(address: string | null): boolean {
  return address === null || address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The limiter key of a client address, or null when it is not limited: only a local
 * client (isLocalClient) with `DEV_UNLIMITED_LOCAL = "true"` (development and tests) is
 * exempt. Anywhere else a request without `CF-Connecting-IP`, which Cloudflare's edge
 * always sets, shares one key: a deployment reached some other way is still limited.
 *
 * @example
 * clientKey('203.0.113.7', {}) // 'ip:203.0.113.7'
 * clientKey(null, {}) // 'ip:unknown'
 * clientKey(null, { DEV_UNLIMITED_LOCAL: 'true' }) // null
 */
export function clientKey(address: string | null, env: Pick<Env, 'DEV_UNLIMITED_LOCAL'>): string | null {
  if (env.DEV_UNLIMITED_LOCAL === 'true' && isLocalClient(address)) return null;
  return `ip:${address ?? 'unknown'}`;
}

/** A 429 problem+json answer that says when to retry. */
class RateLimited extends ProblemError {
  constructor(
    readonly retryAfterS: number,
    detail: string,
  ) {
    super('rate-limited', detail);
  }

  override getResponse(): Response {
    const response = super.getResponse();
    response.headers.set('retry-after', String(this.retryAfterS));
    return response;
  }
}

/** Device addresses seen in this isolate's current window (at most 10,000, about 1 MB). */
const firstSightings = new DeferredCounts({ periodMs: RATE_LIMIT_PERIOD_S.device * 1000, maxKeys: 10_000 });

/**
 * Middleware for device POST routes: one budget per client address.
 *
 * @example
 * app.post('/v1/reports', limitByClientAddress, handler);
 */
export const limitByClientAddress = createMiddleware<AppEnv>(async (c, next) => {
  const address = c.req.header('cf-connecting-ip') ?? null;
  const limiter = c.env.DEVICE_RATE_LIMIT;
  const key = clientKey(address, c.env);
  if (c.req.method === 'POST' && limiter && key) {
    const calls = firstSightings.callsFor(key, Date.now());
    const answers = calls === 0 ? [] : await Promise.all(Array.from({ length: calls }, () => limiter.limit({ key })));
    if (answers.some((a) => !a.success)) throw new RateLimited(RATE_LIMIT_PERIOD_S.device, `too many requests from ${address ?? 'an unknown address'}; retry after ${RATE_LIMIT_PERIOD_S.device} s`);
  }
  await next();
});

/**
 * Counts one request of a verified token subject and refuses it over the budget
 * (local clients are exempt as for devices, with DEV_UNLIMITED_LOCAL only).
 *
 * @example
 * await limitBySubject(c.env, c.req.raw, payload.sub ?? `role:${role}`);
 */
export async function limitBySubject(env: Env, request: Request, subject: string): Promise<void> {
  if (!env.API_RATE_LIMIT || !clientKey(request.headers.get('cf-connecting-ip'), env)) return;
  const { success } = await env.API_RATE_LIMIT.limit({ key: `sub:${subject}` });
  if (!success) throw new RateLimited(RATE_LIMIT_PERIOD_S.api, `too many requests for ${subject}; retry after ${RATE_LIMIT_PERIOD_S.api} s`);
}
