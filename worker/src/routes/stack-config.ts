/**
 * `GET /v1/stack`: the deployment's configuration a page needs, `{ helper_url }` (the
 * helper aggregator's origin from `HELPER_URL`, or null on a single-operator deployment).
 * It stands in for an app's own build configuration: the demo and preference pages read
 * the helper's origin here, then fetch the helper's HPKE key from the helper itself and
 * pin it in `createSegmenter({ aggregators: { helper } })`. The key never comes from the
 * leader, so a leader that lies here can only point at a server that is not the helper
 * the app's operator chose, which a real app's build config rules out.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** What `GET /v1/stack` answers. */
export interface StackConfig {
  /** The helper aggregator's origin (`https://helper.example`), or null without one. */
  helper_url: string | null;
}

/**
 * The helper's origin in `HELPER_URL`, or null when it is unset or not an absolute
 * http(s) URL (a page must never be sent to a relative or script URL).
 *
 * @example
 * helperOrigin('http://127.0.0.1:8788/') // 'http://127.0.0.1:8788'
 */
export function helperOrigin(helperUrl: string | undefined): string | null {
  if (!helperUrl) return null;
  try {
    const url = new URL(helperUrl);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The route: public, JSON, never cached (a redeployed helper is seen at the next page load).
 *
 * @example
 * app.route('/', stackConfigRoutes);
 */
export const stackConfigRoutes = new Hono<AppEnv>().get('/v1/stack', (c) => {
  c.header('cache-control', 'no-store');
  const config: StackConfig = { helper_url: helperOrigin(c.env.HELPER_URL) };
  return c.json(config);
});
