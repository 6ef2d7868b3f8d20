import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { helperHpkeConfigs, leaderRoundKeyUses, publishedHpkeConfigs } from '../hpke-key.ts';

/**
 * Leader: `GET /.well-known/hpke-configs`: each aggregator's current public key (`leader`,
 * `helper`), and under `keys` every key it still publishes, current first, then the
 * retired keys that an open round still names. The helper's are as the helper itself
 * publishes them (the helper serves its own from worker/src/helper/).
 */
export const hpkeConfigRoutes = new Hono<AppEnv>().get('/.well-known/hpke-configs', async (c) => {
  const own = await publishedHpkeConfigs(c.env, leaderRoundKeyUses(c.env));
  c.header('cache-control', 'public, max-age=300');
  const helper = await helperHpkeConfigs(c.env);
  return c.json({ leader: own[0], helper: helper[0], keys: { leader: own, helper } });
});
