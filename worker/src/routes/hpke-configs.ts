import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { aggregatorHpke, helperHpkeConfig } from '../hpke-key.ts';

/**
 * `GET /.well-known/hpke-configs`: the leader answers both aggregators' public keys
 * (the helper's as the helper itself publishes it); the helper answers its own.
 */
export const hpkeConfigRoutes = new Hono<AppEnv>().get('/.well-known/hpke-configs', async (c) => {
  const own = (await aggregatorHpke(c.env)).config;
  c.header('cache-control', 'public, max-age=300');
  if (c.env.ROLE === 'helper') return c.json({ helper: own });
  return c.json({ leader: own, helper: await helperHpkeConfig(c.env) });
});
