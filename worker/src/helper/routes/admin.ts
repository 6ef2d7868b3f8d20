/**
 * The helper operator's routes (Bearer HELPER_ADMIN_TOKEN; the leader's token is
 * refused): change the policy for rounds opened afterwards, rotate the HPKE key.
 */
import { Hono } from 'hono';
import { readJsonBody } from '../../body.ts';
import { rotateHpkeKey } from '../../hpke-key.ts';
import { ProblemError } from '../../problem.ts';
import { rotationBody } from '../../rotation-body.ts';
import { requireHelperAdmin } from '../bearer.ts';
import { helperCoordinator, type HelperAppEnv } from '../env.ts';
import { helperPublishedConfigs } from '../hpke.ts';

const POLICY_MAX_BYTES = 4 * 1024;

/**
 * `PUT /v1/admin/policy` (a partial policy, validated whole before anything is stored;
 * answers the policy in force) and `POST /v1/admin/keys/hpke/rotate` (a new current
 * helper HPKE key; the leader learns it from `/.well-known/hpke-configs`).
 */
export const adminRoutes = new Hono<HelperAppEnv>()
  .use('/v1/admin/*', requireHelperAdmin)
  .put('/v1/admin/policy', async (c) => {
    const patch = await readJsonBody(c.req.raw, POLICY_MAX_BYTES);
    const result = await helperCoordinator(c.env).setPolicy(patch);
    if (!result.ok) throw new ProblemError('invalid-body', result.errors[0], result.errors);
    return c.json(result.policy);
  })
  .post('/v1/admin/keys/hpke/rotate', async (c) => {
    await rotationBody(c.req.raw, []);
    const config = await rotateHpkeKey(c.env);
    return c.json({ config, published: await helperPublishedConfigs(c.env) }, 201);
  });
