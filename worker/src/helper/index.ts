/**
 * Helper Worker entry point (helper/wrangler.toml): the helper app plus the Durable
 * Object classes the helper binds. It shares no storage and no route with the leader.
 */
import { createHelperApp } from './app.ts';
import type { HelperEnv } from './env.ts';

export { HelperCoordinator, HelperShard, KeyRing } from '@edgeseg/aggregator';

const app = createHelperApp();

export default {
  fetch(request: Request, env: HelperEnv, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<HelperEnv>;
