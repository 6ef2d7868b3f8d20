import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { helperHpkeConfigs, publishedHpkeConfigs } from '../hpke-key.ts';

/**
 * `GET /.well-known/hpke-configs`: each aggregator's current public key (`leader`,
 * `helper`), and under `keys` every key it still publishes, current first, then the
 * retired keys that an open round still names. The leader answers both aggregators'
 * (the helper's as the helper itself publishes them); the helper answers its own.
 */
export const hpkeConfigRoutes = new Hono<AppEnv>().get('/.well-known/hpke-configs', async (c) => {
  const own = await publishedHpkeConfigs(c.env);
  c.header('cache-control', 'public, max-age=300');
  if (c.env.ROLE === 'helper') return c.json({ helper: own[0], keys: { helper: own } });
  const helper = await helperHpkeConfigs(c.env);
  return c.json({ leader: own[0], helper: helper[0], keys: { leader: own, helper } });
});
