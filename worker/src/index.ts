/**
 * The leader Worker's entry point: the API app plus the Durable Object classes wrangler
 * binds. (The helper aggregator is another Worker: worker/src/helper/, helper/wrangler.toml.)
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';
import { HELPER_READING_PAGES, servePage } from './page-csp.ts';

export { KeyRing, ModelRegistry, RoundCoordinator, RoundShard, SegmentTally } from '@edgeseg/aggregator';

const app = createApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    // The pages that read from the helper's origin run the Worker first (wrangler.toml).
    if (env.ASSETS && HELPER_READING_PAGES.has(new URL(request.url).pathname)) return servePage(request, { ASSETS: env.ASSETS, HELPER_URL: env.HELPER_URL });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
