/**
 * The leader Worker's entry point: the API app plus the Durable Object classes wrangler
 * binds. (The helper aggregator is another Worker: worker/src/helper/, helper/wrangler.toml.)
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';

export { KeyRing, ModelRegistry, RoundCoordinator, RoundShard, SegmentTally } from '@edgeseg/aggregator';

const app = createApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
