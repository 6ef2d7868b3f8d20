/**
 * Worker entry point: the API app for this deployment's role (ROLE=leader by default,
 * helper in helper/wrangler.toml) plus the Durable Object classes wrangler binds.
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';

export { KeyRing, ModelRegistry, RoundCoordinator, RoundShard, SegmentTally } from '@edgeseg/aggregator';

const leader = createApp('leader');
const helper = createApp('helper');

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    return (env.ROLE === 'helper' ? helper : leader).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
