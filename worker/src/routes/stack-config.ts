/**
 * `GET /v1/stack`: the deployment's configuration a page needs, `{ helper_url }` (the
 * helper aggregator's origin from `HELPER_URL`, or null on a single-operator deployment).
 * It stands in for an app's own build configuration: the demo and preference pages read
 * the helper's origin here, then fetch the helper's HPKE key from the helper itself and
 * pin it in `createSegmenter({ aggregators: { helper } })`. The key never comes from the
 * leader, so a leader that lies here can only point at a server that is not the helper
 * the app's operator chose, which a real app's build config rules out.
 */
import { helperOrigin } from '../helper-origin.ts';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** What `GET /v1/stack` answers. */
export interface StackConfig {
  /** The helper aggregator's origin (`https://helper.example`), or null without one. */
  helper_url: string | null;
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
